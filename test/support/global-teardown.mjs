export default async function globalTeardown() {
  if (globalThis.__AOL_EMBEDDED__) await globalThis.__AOL_EMBEDDED__.stop();
}
