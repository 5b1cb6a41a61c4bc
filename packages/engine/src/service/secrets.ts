/** What a masked secret reads as. */
export const MASK = '***';

// Airflow's list of names whose values are hidden in the UI and API.
const SENSITIVE = ['access_token', 'api_key', 'apikey', 'authorization', 'passphrase', 'passwd', 'password', 'private_key', 'secret', 'token', 'keyfile_dict', 'service_account', 'credential'];

/** Whether a variable or field name suggests a secret (`db_password`, `API_TOKEN`, `stripe.secret`). */
export function isSensitiveName(name: string): boolean {
  const lower = name.toLowerCase();
  return SENSITIVE.some((word) => lower.includes(word));
}

/** A copy of a JSON value with the values of sensitive-looking keys replaced by {@link MASK}, at any depth. */
export function maskSensitive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSensitive);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSensitiveName(k) && v !== null && v !== '' ? MASK : maskSensitive(v)]));
  }
  return value;
}
