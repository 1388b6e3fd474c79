// Reads one .ics from stdin and prints, as JSON, what a calendar client built on ical.js sees in it.
// Used by the Python tests (tests/unit/test_invite.py and friends): `node parse_ics.mjs < invite.ics`;
// `node parse_ics.mjs --many < invites.json` reads a JSON array of .ics texts and prints an array.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function parse(text) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  const vevents = calendar.getAllSubcomponents("vevent");
  if (vevents.length !== 1) {
    throw new Error(`expected one VEVENT, found ${vevents.length}`);
  }
  const vevent = vevents[0];
  const event = new ICAL.Event(vevent);

  function address(name) {
    const property = vevent.getFirstProperty(name);
    if (!property) return null;
    return {
      value: property.getFirstValue(),
      cn: property.getParameter("cn") ?? null,
      role: property.getParameter("role") ?? null,
      partstat: property.getParameter("partstat") ?? null,
    };
  }

  function instant(time) {
    if (!time) return null;
    return {
      // the wall-clock time as written, and the zone ical.js resolved it in ("floating" if it found none)
      local: time.toString(),
      zone: time.zone ? time.zone.tzid : null,
      utc: time.toJSDate().toISOString(),
    };
  }

  const dtstart = vevent.getFirstProperty("dtstart");
  return {
      method: calendar.getFirstPropertyValue("method"),
      version: calendar.getFirstPropertyValue("version"),
      uid: event.uid,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      summary: event.summary,
      location: event.location,
      description: event.description,
      url: vevent.getFirstPropertyValue("url"),
      dtstart: instant(event.startDate),
      dtend: instant(event.endDate),
      tzid: dtstart ? dtstart.getParameter("tzid") ?? null : null,
      timezones: calendar.getAllSubcomponents("vtimezone").map((tz) => tz.getFirstPropertyValue("tzid")),
      organizer: address("organizer"),
      attendee: address("attendee"),
      attendees: vevent.getAllProperties("attendee").length,
      conference: vevent.getAllProperties("conference").map((p) => ({
        value: p.getFirstValue(),
        feature: p.getParameter("feature") ?? null,
        label: p.getParameter("label") ?? null,
      })),
      google_conference: vevent.getFirstPropertyValue("x-google-conference"),
      teams_meeting_url: vevent.getFirstPropertyValue("x-microsoft-skypeteamsmeetingurl"),
  };
}

const input = readFileSync(0, "utf8");
const result = process.argv.includes("--many") ? JSON.parse(input).map(parse) : parse(input);
console.log(JSON.stringify(result));
