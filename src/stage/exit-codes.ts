/** Exit codes of `datamill stage` (DESIGN §4): the runtime retries only 75 and deaths by signal. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_RETRYABLE = 75;
