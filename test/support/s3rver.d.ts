// s3rver ships no type declarations; this is the part of its documented API the test suite uses.
declare module 's3rver' {
  interface S3rverOptions { address?: string; port?: number; silent?: boolean; directory: string; allowMismatchedSignatures?: boolean; resetOnClose?: boolean; configureBuckets?: { name: string }[] }
  export default class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
