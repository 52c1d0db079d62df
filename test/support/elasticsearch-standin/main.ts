/**
 * Runs the Elasticsearch stand-in in its own process (for the benchmark: the server must not share a
 * thread with the client it measures). Prints `ready <url>` once listening; stops on SIGTERM/SIGINT.
 */
import { startElasticsearchStandin } from './server.js';

const standin = await startElasticsearchStandin();
process.stdout.write(`ready ${standin.url}\n`);
const stop = () => void standin.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
