import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type CsvColumn, csvLines, formatCsvCell, toCsv } from "../../../shared/store/csv.js";
import { FsRunStore } from "../../../shared/store/fsRunStore.js";

interface Row {
  userPrincipalName: string;
  displayName: string | null;
  phone?: string;
  outcome: string;
  attempts: number;
}

const columns: ReadonlyArray<CsvColumn<Row>> = [
  { header: "userPrincipalName", value: "userPrincipalName" },
  { header: "displayName", value: "displayName" },
  { header: "phone", value: "phone", phone: true },
  { header: "outcome", value: (row) => row.outcome.toUpperCase() },
  { header: "attempts", value: "attempts" },
];

/** Parses RFC 4180 text back into records, as a strict reader would. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
      i += 1;
      continue;
    }
    if (c === '"' && cell === "") {
      quoted = true;
    } else if (c === ",") {
      record.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      record.push(cell);
      records.push(record);
      record = [];
      cell = "";
      i += 1;
    } else {
      cell += c;
    }
    i += 1;
  }
  expect(cell).toBe("");
  expect(record).toEqual([]);
  return records;
}

describe("toCsv", () => {
  it("writes a header and one CRLF-terminated record per row", () => {
    const csv = toCsv(
      [
        {
          userPrincipalName: "ann@contoso.com",
          displayName: "Ann",
          phone: "+45 20123456",
          outcome: "created",
          attempts: 1,
        },
        { userPrincipalName: "bo@contoso.com", displayName: null, outcome: "skipped", attempts: 0 },
      ],
      columns,
    );
    expect(csv).toBe(
      "userPrincipalName,displayName,phone,outcome,attempts\r\n" +
        "ann@contoso.com,Ann,+45 20123456,CREATED,1\r\n" +
        "bo@contoso.com,,,SKIPPED,0\r\n",
    );
  });

  it("writes only the header for no rows", () => {
    expect(toCsv([], columns)).toBe("userPrincipalName,displayName,phone,outcome,attempts\r\n");
  });

  it("quotes commas, quotes and line breaks so a strict reader gets the values back", () => {
    const names = ['Smith, Jr. "Bob"', "two\nlines", "cr\r\nlf", "plain", "ÆØÅ 李 👩‍💻", ""];
    const csv = toCsv(
      names.map((displayName) => ({
        userPrincipalName: "u@x",
        displayName,
        outcome: "ok",
        attempts: 2,
      })),
      columns,
    );
    expect(csv).toContain('"Smith, Jr. ""Bob"""');
    const records = parseCsv(csv);
    expect(records.slice(1).map((r) => r[1])).toEqual(names);
    expect(records.every((r) => r.length === 5)).toBe(true);
  });

  it("defuses formulas in text cells with a quote prefix", () => {
    const attacks = [
      '=HYPERLINK("http://evil","x")',
      "+cmd|' /C calc'!A0",
      "-2+3+cmd|' /C calc'!A0",
      "@SUM(1+1)*cmd|' /C calc'!A0",
      "\t=1+1",
      "\r=1+1",
    ];
    const records = parseCsv(
      toCsv(
        attacks.map((displayName) => ({
          userPrincipalName: displayName,
          displayName,
          outcome: "ok",
          attempts: 0,
        })),
        columns,
      ),
    );
    for (const [index, attack] of attacks.entries()) {
      expect(records[index + 1]?.[0]).toBe(`'${attack}`);
      expect(records[index + 1]?.[1]).toBe(`'${attack}`);
    }
  });

  it("keeps phone numbers readable in phone columns, full or masked", () => {
    for (const phone of ["+45 20123456", "+45 ******56", "+1 4255550123", "+4520123456"]) {
      expect(formatCsvCell(phone, true)).toBe(phone);
      // The same text in an ordinary column is treated as a possible formula.
      expect(formatCsvCell(phone, false)).toBe(`"'${phone}"`);
    }
  });

  it("still defuses a phone column value that is not only digits, spaces and asterisks", () => {
    for (const phone of [
      "+45 2012=cmd",
      "+cmd|' /C calc'!A0",
      "=1+1",
      "-45 20123456",
      "+45(20)123456",
      `+${"1".repeat(40)}`,
    ]) {
      expect(formatCsvCell(phone, true)).toMatch(/^"'/);
    }
    // Numbers without a leading sign are not formulas and need nothing.
    expect(formatCsvCell("20 12 34 56", true)).toBe("20 12 34 56");
  });

  it("writes numbers, booleans, dates and objects without guarding them", () => {
    expect(formatCsvCell(-3)).toBe("-3");
    expect(formatCsvCell(true)).toBe("true");
    expect(formatCsvCell(new Date("2026-11-27T02:00:00Z"))).toBe("2026-11-27T02:00:00.000Z");
    expect(formatCsvCell({ a: 1, b: "x" })).toBe('"{""a"":1,""b"":""x""}"');
    expect(formatCsvCell(undefined)).toBe("");
  });
});

describe("csvLines", () => {
  it("streams the same text as toCsv, which a run store can write piece by piece", async () => {
    const rows: Row[] = Array.from({ length: 1000 }, (_, i) => ({
      userPrincipalName: `user${i}@contoso.com`,
      displayName: i % 7 === 0 ? `=evil${i}` : `User, ${i}`,
      phone: i % 3 === 0 ? undefined : `+45 ******${String(i % 100).padStart(2, "0")}`,
      outcome: "created",
      attempts: i % 4,
    }));
    async function* produce(): AsyncGenerator<Row> {
      yield* rows;
    }
    const root = await mkdtemp(path.join(tmpdir(), "csv-"));
    try {
      const store = new FsRunStore(root);
      await store.putStream("runs/1/report.csv", csvLines(produce(), columns));
      expect(await store.getText("runs/1/report.csv")).toBe(toCsv(rows, columns));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
