import t from 'tap';
import { paginate } from '../../../src/controller/paging';

const isId = (s: string): boolean => /^id-\d{4}$/.test(s);
const ids = Array.from({ length: 25 }, (_, i) => `id-${String(i).padStart(4, '0')}`);

t.test('pages cover every item once, in order, whatever the input order', async (t) => {
  const shuffled = [...ids].reverse();
  const seen: string[] = [];
  let token = '';
  let pages = 0;
  do {
    const p = paginate(shuffled, (s) => s, 7, token, isId);
    seen.push(...p.items);
    token = p.nextToken;
    pages += 1;
  } while (token !== '');
  t.same(seen, ids);
  t.equal(pages, 4);
});

t.test('max_entries 0 means all; invalid token ABORTED; negative INVALID_ARGUMENT', async (t) => {
  t.equal(paginate(ids, (s) => s, 0, '', isId).items.length, 25);
  t.throws(() => paginate(ids, (s) => s, 5, 'bogus', isId), { code: 'aborted' });
  t.throws(() => paginate(ids, (s) => s, -1, '', isId), { code: 'invalid-argument' });
});

t.test('a deleted item between pages skips nothing', async (t) => {
  const p1 = paginate(ids, (s) => s, 10, '', isId);
  const remaining = ids.filter((s) => s !== p1.nextToken);
  const p2 = paginate(remaining, (s) => s, 10, p1.nextToken, isId);
  t.equal(p2.items[0], 'id-0011');
});
