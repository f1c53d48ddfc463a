/**
 * Did-you-mean for option names. uWSGI silently ignores a misspelt key (`process = 4` runs one
 * worker), so Berth refuses it and names the closest real option — but only a close typo of it:
 * a suggestion must mean what the user meant. Short option names sit one letter apart from
 * options that mean something else (`uwsgi`/`wsgi`, `http`/`https`), so a name shorter than six
 * letters is only suggested for a same-length slip (a swapped or wrong letter); otherwise one edit
 * per four letters is allowed (`mastr` → `master`). Distance is optimal string alignment (Levenshtein plus adjacent
 * swaps, so `moduel` is one edit from `module`). A name the input is the beginning of counts when
 * it is the only one (`process` → `processes`). When another option with a different meaning is
 * just as close (`http2`: `http` or `https`?), nothing is suggested: a guess would mislead.
 */

/** Underscores and case are the most common slips between ini, env and CLI spellings. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) { row.push(j); continue; }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/** Below this length a letter added or dropped usually makes another real option. */
const SHORT = 6;

/** How many edits still read as a typo of `candidate` rather than another word. */
function allowedEdits(wanted: string, candidate: string): number {
  if (candidate.length < SHORT && wanted.length !== candidate.length) return 0;
  return Math.max(1, Math.floor(Math.max(wanted.length, candidate.length) / 4));
}

/**
 * The closest candidate, or undefined when nothing is close enough to be a plausible typo.
 * `meaning` maps a name to what it stands for (its option), so aliases do not compete.
 */
export function suggest(input: string, candidates: Iterable<string>, meaning: (name: string) => unknown = (name) => name): string | undefined {
  const wanted = normalise(input);
  if (wanted.length < 2) return undefined;
  const names = [...candidates].filter((c) => c.length >= 2);
  const same = names.find((c) => normalise(c) === wanted);
  if (same !== undefined) return same;
  const extending = names.filter((c) => normalise(c).startsWith(wanted));
  if (wanted.length >= 3 && extending.length === 1) return extending[0];
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of names) {
    const c = normalise(candidate);
    const score = editDistance(wanted, c);
    if (score > allowedEdits(wanted, c)) continue;
    if (score < bestScore || (score === bestScore && best !== undefined && candidate.length < best.length)) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const chosen = meaning(best);
  const rival = names.some((c) => meaning(c) !== chosen && editDistance(wanted, normalise(c)) <= bestScore);
  return rival ? undefined : best;
}
