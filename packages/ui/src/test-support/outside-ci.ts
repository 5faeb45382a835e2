/**
 * Imported first by tests that draw with ink: ink decides once, as it is
 * loaded, whether it runs in CI (is-in-ci: `CI` or `CONTINUOUS_INTEGRATION`
 * set), and in CI it writes only each instance's last frame. rbuild never
 * draws the TUI in CI (it falls back to plain, see cli/src/output-mode.ts), so
 * the frames these tests check are the ones drawn outside it, wherever the
 * suite itself runs.
 */
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
