import { describe, expect, it } from 'vitest';
import { isSensitiveName, MASK, maskSensitive } from './secrets.js';

describe('masking secrets', () => {
  it('recognises secret-looking names whatever their case', () => {
    expect(['db_password', 'API_TOKEN', 'stripe.secret', 'private_key_pem', 'Authorization'].every(isSensitiveName)).toBe(true);
    expect(['host', 'bucket', 'region', 'timeout'].some(isSensitiveName)).toBe(false);
  });

  it('masks sensitive keys at any depth and leaves the rest alone', () => {
    expect(maskSensitive({ region: 'eu', auth: { api_key: 'k', user: 'u' }, list: [{ token: 't' }], empty_secret: '' })).toEqual({
      region: 'eu',
      auth: { api_key: MASK, user: 'u' },
      list: [{ token: MASK }],
      empty_secret: '',
    });
  });
});
