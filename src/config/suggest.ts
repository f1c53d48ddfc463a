/**
 * Did-you-mean for option names. uWSGI silently ignores a misspelt key (`process = 4` runs one
 * worker), so Berth refuses it and names the closest real option. Distance is optimal string
 * alignment (Levenshtein plus adjacent swaps, so `moduel` is one edit from `module`); a name
 * the input is a prefix of also counts (`process` → `processes`).
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

/** The closest candidate, or undefined when nothing is close enough to be a plausible typo. */
export function suggest(input: string, candidates: Iterable<string>): string | undefined {
  const wanted = normalise(input);
  if (wanted.length < 2) return undefined;
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const c = normalise(candidate);
    if (c.length < 2) continue;
    let score = editDistance(wanted, c);
    if (score > limit && wanted.length >= 3 && c.startsWith(wanted)) score = limit;
    if (score <= limit && (score < bestScore || (score === bestScore && best !== undefined && candidate.length < best.length))) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
