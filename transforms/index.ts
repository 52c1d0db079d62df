import { derive } from './derive.js';
import { drop } from './drop.js';
import { filter } from './filter.js';
import { flatten } from './flatten.js';
import { group } from './group.js';
import { impute } from './impute.js';
import type { TransformDef } from './op.js';
import { parse } from './parse.js';
import { rename } from './rename.js';
import { select } from './select.js';

/** Every transform a job's `transform:` list may name, by its YAML key. */
export const TRANSFORMS: Record<string, TransformDef<any>> = {
  filter,
  derive,
  rename,
  select,
  drop,
  impute,
  flatten,
  parse,
  group,
};

