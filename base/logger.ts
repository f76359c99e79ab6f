/**
 * The logger every part of the station writes to. It is an interface so that base/, hal/ and the
 * core stay free of winston; src/log.ts adapts winston to it. `child(namespace)` gives a part its
 * own logger whose lines carry where they come from (`ocpp:v201:tx`, `hal:evse1:pilot`), so a line in
 * the journal can be traced to its part without reading the message.
 */
export type LogMeta = Record<string, unknown>;

export interface Logger {
  error(msg: string, meta?: LogMeta): void;
  warn(msg: string, meta?: LogMeta): void;
  info(msg: string, meta?: LogMeta): void;
  debug(msg: string, meta?: LogMeta): void;
  /** A logger for a part of this one: its namespace is this one's, then `:`, then `namespace`. */
  child(namespace: string): Logger;
}

/** The four writing methods: what a log back end (winston, a test capture) must offer. */
export type LogSink = Omit<Logger, 'child'>;

/** Field of the meta object that carries the namespace to the back end. */
export const NAMESPACE_FIELD = 'ns';

/**
 * A Logger over a sink: lines of a child carry `ns` in their meta (the sink formats it). Meta given
 * by the caller wins over nothing but the namespace: a caller's own `ns` field is kept under `ns_`.
 */
export function loggerOver(sink: LogSink, namespace?: string): Logger {
  const withNs = (meta: LogMeta | undefined): LogMeta | undefined => {
    if (namespace === undefined) return meta;
    if (meta === undefined) return { [NAMESPACE_FIELD]: namespace };
    const out: LogMeta = { [NAMESPACE_FIELD]: namespace, ...meta };
    if (NAMESPACE_FIELD in meta) {
      out[`${NAMESPACE_FIELD}_`] = meta[NAMESPACE_FIELD];
      out[NAMESPACE_FIELD] = namespace;
    }
    return out;
  };
  return {
    error: (msg, meta) => sink.error(msg, withNs(meta)),
    warn: (msg, meta) => sink.warn(msg, withNs(meta)),
    info: (msg, meta) => sink.info(msg, withNs(meta)),
    debug: (msg, meta) => sink.debug(msg, withNs(meta)),
    child: (ns) => loggerOver(sink, namespace === undefined ? ns : `${namespace}:${ns}`),
  };
}

const nothing = (): void => undefined;

/** A logger that writes nowhere (tools and tests that do not read the log). */
export const silentLogger: Logger = loggerOver({ error: nothing, warn: nothing, info: nothing, debug: nothing });
