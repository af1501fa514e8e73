/**
 * HTTP-date formatting (RFC 9110 §5.6.7) and a per-second cache of the Date header value, so a
 * busy server formats the date once a second instead of once a request.
 */

/** IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Date#toUTCString produces exactly it. */
export function formatHttpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Common Log Format time, "10/Oct/2000:13:55:36 +0000" (always UTC). */
export function formatLogDate(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Caches a formatted date per whole second of the clock it is given. */
export class SecondCache {
  private second = -1;
  private value = "";
  constructor(private readonly format: (epochMs: number) => string) {}

  at(nowMs: number): string {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.value = this.format(second * 1000);
    }
    return this.value;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (RFC 9110 §5.6.7)

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const DAY_NAMES_LONG = [
  "Sunday",
  "Monday",
  "Tuesday",
  "Wednesday",
  "Thursday",
  "Friday",
  "Saturday",
];

const MS_PER_SECOND = 1000;
const SECONDS_PER_DAY = 86_400;
/** RFC 9110 §5.6.7: an rfc850-date more than this far in the future belongs to the past century. */
const TWO_DIGIT_YEAR_HORIZON_YEARS = 50;

/**
 * Parses an HTTP-date in any of the three formats a recipient MUST accept (RFC 9110 §5.6.7) and
 * returns epoch milliseconds (always a whole second), or null:
 *
 * - IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`
 * - rfc850-date `Sunday, 06-Nov-94 08:49:37 GMT`, its two-digit year read against `nowMs`: a date
 *   that would be more than 50 years after `nowMs` is taken from the century before.
 * - asctime-date `Sun Nov  6 08:49:37 1994` (day padded with a space or a zero; always UTC).
 *
 * Strict, because HTTP-date is case-sensitive and a sender MUST NOT add whitespace (§5.6.7), and
 * because every caller treats null as "ignore the field", which for conditional requests means
 * serving the full content. Refused: surrounding whitespace (field values arrive with OWS already
 * trimmed, RFC 9110 §5.5), lowercase names, a day name of the other format's length, a day name
 * that is not the date's weekday (RFC 5322 §3.3, of which IMF-fixdate is a subset), days that do
 * not exist (30 Feb), hour 24, zones other than the literal GMT, and lists of dates.
 *
 * A leap second (`23:59:60`, allowed by the grammar) is read as `23:59:59`: epoch time cannot name
 * it, and the earlier instant keeps it before the next midnight, so a file changed at midnight is
 * still newer than an If-Modified-Since of the leap second.
 */
export function parseHttpDate(text: string, nowMs: number): number | null {
  if (text.charCodeAt(3) === 0x2c /* , */) return parseImfFixdate(text);
  if (text.charCodeAt(3) === 0x20 /* SP */) return parseAsctimeDate(text);
  return parseRfc850Date(text, nowMs);
}

/** `Sun, 06 Nov 1994 08:49:37 GMT`: day-name "," SP day SP month SP year SP time-of-day SP GMT. */
function parseImfFixdate(text: string): number | null {
  if (!hasShape(text, 0, "___, ## ___ #### ##:##:## GMT")) return null;
  return resolveDate({
    weekday: DAY_NAMES.indexOf(text.slice(0, 3)),
    day: readDigits(text, 5, 2),
    month: MONTHS.indexOf(text.slice(8, 11)),
    year: readDigits(text, 12, 4),
    secondOfDay: readTimeOfDay(text, 17),
  });
}

/** `Sun Nov  6 08:49:37 1994`: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP year. */
function parseAsctimeDate(text: string): number | null {
  const spacePadded = text[8] === " ";
  if (!hasShape(text, 0, spacePadded ? "___ ___  # ##:##:## ####" : "___ ___ ## ##:##:## ####")) {
    return null;
  }
  return resolveDate({
    weekday: DAY_NAMES.indexOf(text.slice(0, 3)),
    day: readDigits(text, 8 + (spacePadded ? 1 : 0), spacePadded ? 1 : 2),
    month: MONTHS.indexOf(text.slice(4, 7)),
    year: readDigits(text, 20, 4),
    secondOfDay: readTimeOfDay(text, 11),
  });
}

/** `Sunday, 06-Nov-94 08:49:37 GMT`: day-name-l "," SP day "-" month "-" 2DIGIT SP time SP GMT. */
function parseRfc850Date(text: string, nowMs: number): number | null {
  const comma = text.indexOf(",");
  if (comma === -1 || !hasShape(text, comma, ", ##-___-## ##:##:## GMT")) return null;
  const weekday = DAY_NAMES_LONG.indexOf(text.slice(0, comma));
  const day = readDigits(text, comma + 2, 2);
  const month = MONTHS.indexOf(text.slice(comma + 5, comma + 8));
  const secondOfDay = readTimeOfDay(text, comma + 12);
  if (month === -1 || secondOfDay === -1) return null;
  const year = resolveTwoDigitYear(readDigits(text, comma + 9, 2), month, day, secondOfDay, nowMs);
  return resolveDate({ weekday, day, month, year, secondOfDay });
}

/**
 * RFC 9110 §5.6.7: "MUST interpret a timestamp that appears to be more than 50 years in the future
 * as representing the most recent year in the past that had the same last two digits". So the
 * year is the latest one ending in those digits whose timestamp is at most 50 calendar years after
 * `nowMs`, compared to the second rather than by year number alone.
 */
function resolveTwoDigitYear(
  twoDigitYear: number,
  month: number,
  day: number,
  secondOfDay: number,
  nowMs: number,
): number {
  const now = new Date(nowMs);
  const horizon = new Date(nowMs);
  horizon.setUTCFullYear(now.getUTCFullYear() + TWO_DIGIT_YEAR_HORIZON_YEARS);
  const horizonYear = horizon.getUTCFullYear();
  let year = horizonYear - ((((horizonYear - twoDigitYear) % 100) + 100) % 100);
  // Day 29 Feb of a year that has none still orders correctly here; resolveDate rejects it later.
  const candidateMs =
    (daysFromCivil(year, month, day) * SECONDS_PER_DAY + secondOfDay) * MS_PER_SECOND;
  if (candidateMs > horizon.getTime()) year -= 100;
  return year;
}

interface DateFields {
  /** 0 = Sunday, -1 when the name was not recognised. */
  readonly weekday: number;
  /** 1-based, or -1. */
  readonly day: number;
  /** 0-based, or -1. */
  readonly month: number;
  readonly year: number;
  /** Seconds since midnight, or -1. */
  readonly secondOfDay: number;
}

/** Checks that the fields name a real day whose weekday is the one given, and converts it. */
function resolveDate(fields: DateFields): number | null {
  const { weekday, day, month, year, secondOfDay } = fields;
  if (weekday === -1 || month === -1 || secondOfDay === -1) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  const days = daysFromCivil(year, month, day);
  if (weekdayOf(days) !== weekday) return null;
  return (days * SECONDS_PER_DAY + secondOfDay) * MS_PER_SECOND;
}

/** `HH:MM:SS` at `start` (digits already checked by hasShape) as seconds since midnight, or -1.
 * RFC 9110 §5.6.7 allows 00:00:00 to 23:59:60; the leap second is read as 23:59:59. */
function readTimeOfDay(text: string, start: number): number {
  const hour = readDigits(text, start, 2);
  const minute = readDigits(text, start + 3, 2);
  const second = readDigits(text, start + 6, 2);
  const isLeapSecond = hour === 23 && minute === 59 && second === 60;
  if (hour > 23 || minute > 59 || (second > 59 && !isLeapSecond)) return -1;
  return hour * 3600 + minute * 60 + Math.min(second, 59);
}

/** The decimal value of `count` ASCII digits at `start` (already checked by hasShape). */
function readDigits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) value = value * 10 + (text.charCodeAt(i) - 0x30);
  return value;
}

/** Whether `text` from `start` to its end has exactly the shape given: `#` is an ASCII digit,
 * `_` any character (names are looked up afterwards), anything else itself. */
function hasShape(text: string, start: number, shape: string): boolean {
  if (text.length !== start + shape.length) return false;
  for (let i = 0; i < shape.length; i++) {
    const expected = shape[i];
    const code = text.charCodeAt(start + i);
    if (expected === "#") {
      if (code < 0x30 || code > 0x39) return false;
    } else if (expected !== "_" && code !== shape.charCodeAt(i)) {
      return false;
    }
  }
  return true;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return isLeapYear(year) ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (month 0-based, day 1-based),
 * counted in whole 400-year eras of 146097 days so it holds for years 0000 to 9999 alike. */
function daysFromCivil(year: number, month: number, day: number): number {
  // Count years from March, so the leap day is the last day of its year.
  const y = month < 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = (month + 10) % 12;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  // 719468 days separate 0000-03-01 from 1970-01-01.
  return era * 146_097 + dayOfEra - 719_468;
}

/** 0 = Sunday; 1970-01-01 was a Thursday. */
function weekdayOf(daysSinceEpoch: number): number {
  return (((daysSinceEpoch + 4) % 7) + 7) % 7;
}
