/**
 * rbuild's remote cache server. Not built yet: the remote-cache issue delivers
 * the server, its protocol and its client. This package holds the place in the
 * workspace so the layout is stable.
 */
export const PROTOCOL_PREFIX = "/rbuild/v1";
