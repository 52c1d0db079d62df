/**
 * Runs s3rver (a real S3-compatible server) in its own process for the test suite. It needs
 * `--openssl-legacy-provider` (shared/ENVIRONMENT.md: listings with continuation tokens fail without it),
 * which the suite's own processes should not run with. Prints `ready <port>` once listening.
 */
import S3rver from 's3rver';

const [directory, portText] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(portText ?? 0), silent: true, directory: directory!, allowMismatchedSignatures: false });
const addr = (await server.run()) as { port: number };
process.stdout.write(`ready ${addr.port}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
