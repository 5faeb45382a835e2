/** A terminal control sequence (CSI: colours, cursor moves, `?25h`), as tools write them into their output. */
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** `text` without its terminal control sequences, for reports and signatures that are read as plain text. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
