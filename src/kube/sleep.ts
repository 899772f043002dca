/** The default wait between retries; callers take an injectable `delay`, so tests never sleep. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());
