// Reads one .ics from stdin and prints, as JSON, every event a calendar client built on ical.js shows for
// it: a recurring event expanded into its instances, each instance taken from its override (RECURRENCE-ID)
// where there is one. Used by the Python tests of series invites (tests/unit/test_invite.py and friends):
// `node expand_ics.mjs < invite.ics`. An .ics holding only overrides (an update of one instance) lists them.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const LIMIT = 500; // no series of ours has more instances; a rule that never ends would stop here

function instant(time) {
  return time ? { local: time.toString(), zone: time.zone ? time.zone.tzid : null, utc: time.toJSDate().toISOString() } : null;
}

function shown(event, start, end, recurrenceId) {
  const vevent = event.component;
  return {
    uid: event.uid,
    recurrence_id: recurrenceId ? instant(recurrenceId) : null,
    sequence: event.sequence,
    status: vevent.getFirstPropertyValue("status"),
    summary: event.summary,
    location: event.location,
    description: event.description,
    url: vevent.getFirstPropertyValue("url"),
    attendee: vevent.getFirstPropertyValue("attendee"),
    conference: vevent.getAllProperties("conference").map((p) => p.getFirstValue()),
    start: instant(start),
    end: instant(end),
  };
}

const calendar = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));
const vevents = calendar.getAllSubcomponents("vevent");
const masters = vevents.filter((v) => !v.hasProperty("recurrence-id"));
const result = { method: calendar.getFirstPropertyValue("method"), masters: masters.length, instances: [] };
if (masters.length > 1) throw new Error(`expected at most one event without RECURRENCE-ID, found ${masters.length}`);
if (masters.length === 1) {
  const event = new ICAL.Event(masters[0], { strictExceptions: true }); // relates the overrides of its UID
  result.rrule = masters[0].getFirstPropertyValue("rrule")?.toString() ?? null;
  result.exdates = masters[0].getAllProperties("exdate").map((p) => instant(p.getFirstValue()));
  const it = event.iterator();
  for (let next = it.next(), n = 0; next && n < LIMIT; next = it.next(), n++) {
    const details = event.getOccurrenceDetails(next);
    const recurrenceId = event.isRecurring() ? details.recurrenceId : null; // a single event is no instance
    result.instances.push(shown(details.item, details.startDate, details.endDate, recurrenceId));
  }
} else {
  for (const vevent of vevents) {
    const event = new ICAL.Event(vevent);
    result.instances.push(shown(event, event.startDate, event.endDate, event.recurrenceId));
  }
}
console.log(JSON.stringify(result));
