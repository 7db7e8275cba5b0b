/**
 * The product's identity, spelled once (issue #11): what Qobuz shows as brand and model, what
 * Home Assistant shows as manufacturer and origin, what the device HTTP routes answer.
 */
export const PRODUCT_NAME = 'qobuz-connect-bridge';
/** The model every player reports: the speaker behind it is an MPD. */
export const PRODUCT_MODEL = 'MPD';
