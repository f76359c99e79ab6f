/**
 * The connection URL (OCPP-J 1.6 §3.1.1, 2.0.1 part 4 §3.1.1): the CSMS's endpoint URL with "/" and the
 * percent-encoded identity appended to its path. A query string in ocpp.csmsUrl (some CSMSs want a
 * token there) stays a query string after the identity: ws://h/ocpp?t=1 → ws://h/ocpp/CP1?t=1, not
 * ws://h/ocpp?t=1/CP1. A fragment is never sent to a server and is dropped.
 *
 * ocpp-rpc builds the URL itself as `endpoint + '/' + encodeURIComponent(identity)` followed by
 * `'?' + new URLSearchParams(query)`, so it gets the endpoint and the query separately and `url` here is
 * computed the same way: the URL the log names is the one requested.
 */
export interface ConnectionTarget {
  /** Scheme, host and path, without a trailing slash, query or fragment. */
  endpoint: string;
  /** The query string without "?", or undefined. */
  query: string | undefined;
  /** The URL requested. */
  url: string;
}

export function connectionTarget(csmsUrl: string, identity: string): ConnectionTarget {
  const u = new URL(csmsUrl);
  const path = u.pathname.replace(/\/+$/, '');
  const endpoint = `${u.protocol}//${u.host}${path}`;
  const query = u.search.length > 1 ? new URLSearchParams(u.search).toString() : undefined;
  const url = `${endpoint}/${encodeURIComponent(identity)}${query ? `?${query}` : ''}`;
  return { endpoint, query, url };
}
