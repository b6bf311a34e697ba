/** Query parameter names whose values are credentials, once percent-decoded. */
const SECRET_PARAM = /token|password|passwd|secret|api[-_]?key|^key$|sslkey|credential/i;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw; // malformed escapes: judge it as written
  }
}

/**
 * A URL's query string with every credential-looking parameter's value
 * replaced by `***`. Names are compared after percent-decoding, because
 * that's how the server reads them: `?access%5Ftoken=` is `access_token`.
 */
export function redactQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    return SECRET_PARAM.test(decodeName(name)) ? `${name}=***` : pair;
  });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}
