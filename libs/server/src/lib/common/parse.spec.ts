import { BadRequestException, NotFoundException } from '@nestjs/common';
import { z } from 'zod';

import { parseCommandOr404 } from './parse';

const NAMES = ['start', 'reject'] as const;
const BODIES = {
  start: z.object({ note: z.string().optional() }).strict(),
  reject: z.object({ note: z.string().min(1) }).strict(),
};

describe('parseCommandOr404 (the `:id/:action` steps of hazards, permits and duty shifts)', () => {
  it('answers the command named and its fields; a missing body is an empty one', () => {
    expect(parseCommandOr404(NAMES, BODIES, 'reject', { note: 'n' })).toEqual({
      name: 'reject',
      fields: { note: 'n' },
    });
    expect(parseCommandOr404(NAMES, BODIES, 'start', undefined)).toEqual({
      name: 'start',
      fields: {},
    });
  });

  it('answers 404 for a name that is not a command, an inherited property name too', () => {
    for (const action of ['approve', 'toString', 'constructor', ''])
      expect(() => parseCommandOr404(NAMES, BODIES, action, {})).toThrow(NotFoundException);
  });

  it("answers 400 for a body that does not fit the command's schema", () => {
    expect(() => parseCommandOr404(NAMES, BODIES, 'reject', {})).toThrow(BadRequestException);
    expect(() => parseCommandOr404(NAMES, BODIES, 'start', { extra: 1 })).toThrow(
      BadRequestException,
    );
  });
});
