// The widget's other pure modules: languages, epochs, clusters of markers, people's initials.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clusterMarkers } from "../../widget/src/clusters.js";
import { isOlderEpoch, isOtherEpoch } from "../../widget/src/epoch.js";
import { CATALOGUES, relativeTime, resolveLocale, translate } from "../../widget/src/i18n/index.js";
import { initials, personColour } from "../../widget/src/people.js";
import { isStaff, ssoNamesStaff } from "../../widget/src/staff.js";

test("every catalogue has exactly the English keys, and no empty string", () => {
  const english = Object.keys(CATALOGUES.en).sort();
  for (const language of ["en", "it", "es", "fr", "de", "pt"]) {
    const table = CATALOGUES[language];
    assert.ok(table, `missing ${language}`);
    assert.deepEqual(Object.keys(table).sort(), english, `${language} keys`);
    for (const [key, text] of Object.entries(table)) assert.ok(text.trim(), `${language}.${key}`);
    // Placeholders are the same as in English, so no value is lost in translation.
    for (const key of english) {
      const names = (text) => (text.match(/\{\w+\}/g) || []).sort();
      assert.deepEqual(names(table[key]), names(CATALOGUES.en[key]), `${language}.${key} placeholders`);
    }
  }
});

test("the browser's languages pick the catalogue unless an option says otherwise", () => {
  assert.equal(resolveLocale(undefined, ["it-IT", "en-US"]), "it");
  assert.equal(resolveLocale("auto", ["nl-NL", "pt-BR", "en"]), "pt");
  assert.equal(resolveLocale(undefined, ["ja-JP"]), "en");
  assert.equal(resolveLocale(undefined, []), "en");
  assert.equal(resolveLocale("de", ["it-IT"]), "de");
  assert.equal(resolveLocale("FR-ca", ["it-IT"]), "fr");
  // An explicit language we do not have means English, not the browser's.
  assert.equal(resolveLocale("xx", ["it-IT"]), "en");
});

test("plural rules per language", () => {
  assert.equal(translate("en", "viewers", { count: 1 }), "1 viewing");
  assert.equal(translate("it", "markerLabel", { name: "Ada", count: 1 }), "Conversazione di Ada, 1 commento");
  assert.equal(translate("it", "markerLabel", { name: "Ada", count: 3 }), "Conversazione di Ada, 3 commenti");
  // French counts 0 as singular; German does not.
  assert.equal(translate("fr", "clusterLabel", { count: 0 }), "0 conversation ici");
  assert.equal(translate("de", "clusterLabel", { count: 0 }), "0 Gespräche hier");
});

test("placeholders are filled once: user text with braces stays as typed", () => {
  assert.equal(
    translate("en", "announceNewComment", { name: "{body}", body: "{name} <b>" }),
    "New comment from {body}: {name} <b>",
  );
  assert.equal(translate("en", "no-such-key"), "no-such-key");
});

test("relative times in the reader's language", () => {
  const now = Date.parse("2026-11-26T10:00:00.000Z");
  // The words come from the platform's Intl data (they vary a little between ICU versions).
  const said = (locale, value, unit) =>
    new Intl.RelativeTimeFormat(locale, { numeric: "auto", style: "short" }).format(value, unit);
  assert.equal(relativeTime("2026-11-26T09:58:00.000Z", "en", now), said("en", -2, "minute"));
  assert.equal(relativeTime("2026-11-26T09:58:00.000Z", "it", now), said("it", -2, "minute"));
  assert.match(relativeTime("2026-11-26T09:58:00.000Z", "it", now), /2 min/);
  assert.equal(relativeTime("2026-11-26T09:59:50.000Z", "en", now), said("en", 0, "second"));
  assert.equal(relativeTime("2026-11-25T09:00:00.000Z", "en", now), said("en", -1, "day"));
  assert.equal(relativeTime("2026-11-12T09:00:00.000Z", "de", now), said("de", -2, "week"));
  // A client clock a little behind the server's: still "now", not "in 3 seconds".
  assert.equal(relativeTime("2026-11-26T10:00:03.000Z", "en", now), said("en", 0, "second"));
  assert.equal(relativeTime("not a time", "en", now), "");
});

test("epochs are ordered by their generation", () => {
  assert.ok(isOlderEpoch("00000001.zz", "00000002.aa"));
  assert.ok(!isOlderEpoch("00000002.aa", "00000001.zz"));
  assert.ok(!isOlderEpoch("00000002.aa", "00000002.bb"));
  assert.ok(!isOlderEpoch("legacy", "00000002.aa"), "an unreadable epoch is never called older");
  assert.ok(!isOlderEpoch(undefined, "00000002.aa"));
  assert.ok(isOtherEpoch("00000002.bb", "00000002.aa"));
  assert.ok(!isOtherEpoch("00000002.aa", "00000002.aa"));
  assert.ok(!isOtherEpoch(undefined, "00000002.aa"));
  assert.ok(!isOtherEpoch("00000002.aa", null));
});

test("markers closer than their size merge; far ones do not", () => {
  const items = [
    { id: "a", x: 10, y: 10 },
    { id: "b", x: 11, y: 10.5 },
    { id: "c", x: 50, y: 50 },
    { id: "d", x: 12, y: 11 },
  ];
  const groups = clusterMarkers(items, 1000, 500, 30);
  assert.deepEqual(groups.map((g) => g.items.map((i) => i.id)), [["a", "b", "d"], ["c"]]);
  assert.ok(Math.abs(groups[0].x - 11) < 1e-9);
  // Bigger picture, same percentages: the same markers are now far apart.
  assert.equal(clusterMarkers(items, 10000, 5000, 30).length, 4);
  assert.equal(clusterMarkers([], 100, 100, 5).length, 0);
});

test("initials and colours of people", () => {
  assert.equal(initials("Ada Lovelace"), "AL");
  assert.equal(initials("  bob "), "B");
  assert.equal(initials("Émile Zola Jr"), "ÉJ");
  assert.equal(initials(""), "?");
  assert.equal(initials(null), "?");
  assert.equal(initials("😀 Smile"), "😀S");
  assert.equal(personColour({ id: "u1" }), personColour({ id: "u1", name: "other" }));
  assert.notEqual(personColour({ id: "u1" }), personColour({ id: "u2" }));
  assert.match(personColour(null), /^hsl\(/);
});

test("every person's colour keeps white initials readable (WCAG AA, 4.5:1)", () => {
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  for (let i = 0; i < 2000; i++) {
    const colour = personColour({ id: `user-${i}` });
    const [h, s, l] = colour.match(/[\d.]+/g).map(Number);
    // hsl -> rgb
    const a = (s / 100) * Math.min(l / 100, 1 - l / 100);
    const f = (n) => {
      const k = (n + h / 30) % 12;
      return 255 * (l / 100 - a * Math.max(-1, Math.min(k - 3, 9 - k, 1)));
    };
    const lum = 0.2126 * channel(f(0)) + 0.7152 * channel(f(8)) + 0.0722 * channel(f(4));
    const ratio = 1.05 / (lum + 0.05);
    assert.ok(ratio >= 4.5, `${colour}: ${ratio.toFixed(2)}`);
  }
});

test("an SSO payload names staff by isAdmin or isModerator, JSON true only", () => {
  const payload = (user) => ({
    userDataJSONBase64: Buffer.from(JSON.stringify(user)).toString("base64"),
    verificationHash: "x",
    timestamp: 1,
  });
  assert.equal(ssoNamesStaff(payload({ id: "1", username: "Zoë", isModerator: true })), true);
  assert.equal(ssoNamesStaff(payload({ id: "1", username: "a", isAdmin: true })), true);
  assert.equal(ssoNamesStaff(payload({ id: "1", username: "a", isAdmin: "true" })), false);
  assert.equal(ssoNamesStaff(payload({ id: "1", username: "a" })), false);
  assert.equal(ssoNamesStaff({ userDataJSONBase64: "%%%", verificationHash: "", timestamp: 0 }), false);
  assert.equal(ssoNamesStaff({ userDataJSONBase64: btoa("[1,"), verificationHash: "", timestamp: 0 }), false);
  assert.equal(ssoNamesStaff(null), false);
  assert.equal(isStaff({ id: "sso:1", name: "a", avatarUrl: null, role: "moderator" }), true);
  assert.equal(isStaff({ id: "g:1", name: "a", avatarUrl: null, role: "user" }), false);
});
