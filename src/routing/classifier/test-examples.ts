import type { TrainingExample } from "./classification.ts";

/** A small telecom profile's routing examples, shared by the unit tests of the router. */
export const TELECOM_EXAMPLES: readonly TrainingExample[] = [
  ...[
    "why is my bill so high this month",
    "i was overcharged on my last bill",
    "check my bill",
    "there is a charge on my invoice i don't recognise",
    "when is my payment due",
    "can i get a refund for the double charge",
    "explain the fees on my statement",
    "i want to pay my bill",
    "my invoice is wrong",
    "how much do i owe",
    "set up autopay for my account",
    "dispute a charge on my bill",
  ].map((text) => ({ text, worker: "billing" })),
  ...[
    "my internet is slow",
    "the wifi keeps dropping",
    "no signal on my phone",
    "my internet has been really slow for days",
    "the connection is down again",
    "my router keeps disconnecting",
    "calls drop all the time",
    "speed test shows very low download",
    "there is an outage in my area",
    "my broadband stopped working",
    "packet loss when gaming",
    "internet not working since this morning",
  ].map((text) => ({ text, worker: "network" })),
  ...[
    "can i upgrade my plan",
    "i'd like to upgrade to a faster plan",
    "what plans do you offer",
    "i want a better package",
    "switch me to unlimited data",
    "are there any deals on new phones",
    "upgrade to fibre",
    "add a line to my plan",
    "how much is the premium tier",
    "i want more data each month",
    "can i get a faster speed package",
    "tell me about your family plans",
  ].map((text) => ({ text, worker: "sales" })),
];

/** Out-of-scope requests for the same profile. */
export const TELECOM_OUT_OF_SCOPE: readonly string[] = [
  "what is the capital of france",
  "tell me a joke",
  "who won the football game",
  "recommend a good recipe for pasta",
  "how tall is mount everest",
  "write me a poem about the sea",
  "what is the meaning of life",
  "book me a flight to rome",
];
