/**
 * docs/commands.md against the CLI: every registered command has its section there, every flag
 * its --help lists is named in that section with the default the help gives, every command with
 * flags has an example and its exit codes, and every command the page documents exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ppuuHelpTexts, type CommandHelp } from '../helpers/cli.js';

const PAGE = fileURLToPath(new URL('../../docs/commands.md', import.meta.url));

/** Sections of the page for headings that name a command (`ppuu data synth`): its lines up to the next heading of its level or above, or the next command's heading. */
function commandSections(md: string): Map<string, string[]> {
  const lines = md.split('\n');
  const headings = lines.flatMap((l, i) => {
    const m = /^(#{1,6}) (.*)$/.exec(l);
    return m ? [{ i, level: m[1]!.length, command: /^`ppuu(?: ([a-z][a-z -]*))?`$/.exec(m[2]!.trim())?.[1] ?? (m[2]!.trim() === '`ppuu`' ? '' : null) }] : [];
  });
  const out = new Map<string, string[]>();
  headings.forEach((h, k) => {
    if (h.command === null) return;
    const end = headings.slice(k + 1).find((n) => n.level <= h.level || n.command !== null)?.i ?? lines.length;
    assert.ok(!out.has(h.command), `docs/commands.md: two sections for 'ppuu ${h.command}'`);
    out.set(h.command, lines.slice(h.i + 1, end));
  });
  return out;
}

/** What is wrong with the page for one command (empty when nothing). */
function problems(c: CommandHelp, md: string, sections: Map<string, string[]>): string[] {
  const name = ['ppuu', ...c.path].join(' ');
  if (c.path.length === 0) {
    // ppuu itself: its flags are documented once, for every command.
    return c.flags.filter((f) => !md.includes(`\`${f}\``)).map((f) => `${name}: flag ${f} is not on the page`);
  }
  const section = sections.get(c.path.join(' '));
  if (!section) return [`${name}: no section headed \`${name}\``];
  const text = section.join('\n');
  const out: string[] = [];
  for (const f of c.flags) {
    const rows = section.filter((l) => l.includes(`\`${f}\``));
    if (rows.length === 0) {
      out.push(`${name}: flag ${f} is not in its section`);
      continue;
    }
    const d = c.defaults.get(f);
    if (d !== undefined && !rows.some((l) => l.includes(d))) out.push(`${name}: flag ${f}: its default ${d} is not given`);
  }
  if (c.flags.length > 0) {
    if (!/^Examples?:/m.test(text)) out.push(`${name}: no example`);
    if (!/^Exit codes:/m.test(text)) out.push(`${name}: no exit codes`);
    if (c.flags.includes('--json') && !/^`--json`/m.test(text)) out.push(`${name}: what --json prints is not said`);
  } else if (c.group && !c.help.split('\n').some((l) => /^ {2}[a-z]/.test(l) && text.includes(`\`${l.trim().split(' ')[0]}\``))) {
    out.push(`${name}: its sub-commands are not named`);
  }
  return out;
}

test('docs/commands.md documents every command and flag of the CLI, with defaults, an example, --json and exit codes', () => {
  const md = readFileSync(PAGE, 'utf8');
  const sections = commandSections(md);
  const commands = ppuuHelpTexts();
  assert.ok(commands.length >= 20, `${commands.length} commands`);
  const wrong = commands.flatMap((c) => problems(c, md, sections));
  assert.deepEqual(wrong, []);
  const known = new Set(commands.map((c) => c.path.join(' ')));
  const stale = [...sections.keys()].filter((k) => !known.has(k));
  assert.deepEqual(stale, [], 'sections for commands the CLI does not have');
});

test('the check finds a missing command, a missing flag and a missing default', () => {
  const md = readFileSync(PAGE, 'utf8');
  const synth = ppuuHelpTexts().find((c) => c.path.join(' ') === 'data synth')!;
  assert.deepEqual(problems(synth, md, commandSections(md)), []);
  const withoutSection = md.replace('### `ppuu data synth`', '### synthetic traffic');
  assert.deepEqual(problems(synth, withoutSection, commandSections(withoutSection)), ['ppuu data synth: no section headed `ppuu data synth`']);
  const withoutFlag = md.replace(/^\| `--warmup` .*\n/m, '');
  assert.deepEqual(problems(synth, withoutFlag, commandSections(withoutFlag)), ['ppuu data synth: flag --warmup is not in its section']);
  const otherDefault = md.replace('| `--slot` | `0400-0415` | `0400-0415`, `0500-0515`, `0515-0530` or `all` |', '| `--slot` | all | the slots |');
  assert.deepEqual(problems(synth, otherDefault, commandSections(otherDefault)), ['ppuu data synth: flag --slot: its default 0400-0415 is not given']);
  const newFlag = { ...synth, flags: [...synth.flags, '--lanes'] };
  assert.deepEqual(problems(newFlag, md, commandSections(md)), ['ppuu data synth: flag --lanes is not in its section']);
});
