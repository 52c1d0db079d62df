/** The `after:` graph of a set of job files: unknown parents, duplicate names and cycles are errors. */
export interface GraphNode {
  job: string;
  file: string;
  after: readonly string[];
}

export interface GraphProblem {
  /** The file whose job is at fault (the first of a cycle in file order). */
  file: string;
  job: string;
  message: string;
}

export function graphProblems(nodes: readonly GraphNode[]): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const byName = new Map<string, GraphNode>();
  for (const n of nodes) {
    const seen = byName.get(n.job);
    if (seen) problems.push({ file: n.file, job: n.job, message: `job '${n.job}' is also defined in ${seen.file}; job names are unique` });
    else byName.set(n.job, n);
  }
  for (const n of byName.values()) {
    for (const parent of n.after) {
      if (parent === n.job) problems.push({ file: n.file, job: n.job, message: `job '${n.job}' cannot run after itself` });
      else if (!byName.has(parent)) problems.push({ file: n.file, job: n.job, message: `unknown parent job '${parent}' (known jobs: ${[...byName.keys()].sort().join(', ') || 'none'})` });
    }
  }
  // Depth-first search with colours; each cycle is reported once, with the files it runs through.
  const colour = new Map<string, 'grey' | 'black'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    colour.set(name, 'grey');
    stack.push(name);
    for (const parent of byName.get(name)?.after ?? []) {
      if (parent === name || !byName.has(parent)) continue;
      if (colour.get(parent) === 'grey') {
        const cycle = [...stack.slice(stack.indexOf(parent)), parent];
        const first = byName.get(parent)!;
        problems.push({ file: first.file, job: first.job, message: `dependency cycle ${cycle.join(' → ')} (${cycle.slice(0, -1).map((j) => byName.get(j)!.file).join(', ')})` });
      } else if (!colour.has(parent)) visit(parent);
    }
    stack.pop();
    colour.set(name, 'black');
  };
  for (const name of byName.keys()) if (!colour.has(name)) visit(name);
  return problems;
}
