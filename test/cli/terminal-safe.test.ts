import fc from 'fast-check';
import t from 'tap';
import { terminalSafe } from '../../src/text.ts';
import '../helpers/property.ts';

// C0, DEL, C1 and the bidi controls (DESIGN "Who may, and until when").
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

t.test(
  'terminalSafe: what check, audit, reach and advise print holds no control character',
  async (t) => {
    t.equal(
      terminalSafe('web\u001b[2J\u001b[31mok'),
      'web [2J [31mok',
      'an escape sequence is defused',
    );
    t.equal(terminalSafe('a\r\n\tb'), 'a b', 'a run of controls is one space');
    t.equal(terminalSafe('pod\u0085name\u009b'), 'pod name ', 'C1 too (NEL, CSI)');
    t.equal(terminalSafe('evil\u202etxt.yaml'), 'evil txt.yaml', 'and bidi overrides');
    t.equal(
      terminalSafe('prod-crawl/crawler é 😀'),
      'prod-crawl/crawler é 😀',
      'printable text is kept',
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        const safe = terminalSafe(text);
        return !CONTROL.test(safe) && (CONTROL.test(text) || safe === text);
      }),
    );
  },
);
