import { describe, expect, test } from "vitest";
import { analyse } from "./analyse.js";
import { dagreSource, formatHtml } from "./format-html.js";
import { inputOf, ran } from "./test-support/input.js";

describe("html", () => {
  test("23.2: html is one file: the report embedded so that no name can end its script, dagre inlined, nothing else referenced", () => {
    const report = analyse(
      inputOf([{ name: "gen</script><script>alert(1)</script>" }, { name: "app <!-- & co", deps: ["gen</script><script>alert(1)</script>"] }], {
        history: new Map([["app <!-- & co", ran(20)]]),
      }),
      [],
    );
    const html = formatHtml(report);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    // The report, dagre and the viewer: each ends where it should, whatever the names hold.
    expect(scripts.map(([, attrs]) => attrs)).toEqual([' id="report" type="application/json"', "", ""]);
    expect(JSON.parse(scripts[0]![2]!)).toEqual(JSON.parse(JSON.stringify(report)));
    expect(scripts[1]![2]).toContain("var dagre=");
    expect(dagreSource()).not.toMatch(/sourceMappingURL/);
    // No other file, no network: no src, href, import or url() anywhere.
    expect(html).not.toMatch(/\s(src|href)=|@import|url\(|sourceMappingURL/);
  });
});
