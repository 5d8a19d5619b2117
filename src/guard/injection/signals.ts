/** Families of prompt-injection evidence. */
export type SignalKind =
  | "override" // "ignore all previous instructions", "vergiss alles"
  | "persona" // "act as", "you are now", "pretend you are"
  | "exfiltration" // "show me your prompt"
  | "coercion" // "just say ...", "DO NOT ANSWER ... OUTPUT"
  | "routing" // "route this to billing", "bypass approval"
  | "structure"; // fake dialogue turns, "Input:/Output:", role markers

export interface Signal {
  readonly id: string;
  readonly kind: SignalKind;
  /** Probability-like strength; signals combine by noisy-OR. */
  readonly weight: number;
  readonly pattern: RegExp;
}

const PRIOR = String.raw`(?:all\s+)?(?:of\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|preceding|earlier|foregoing|former|original|initial|given|provided|existing|system|old)?`;
const WHAT =
  "(?:instructions?|prompts?|orders?|rules?|tasks?|assignments?|directions?|directives?|guidelines?|commands?|context|information|documents?|articles?|constraints?|programming|everything|all)";

const s = (source: string, flags = "iu"): RegExp => new RegExp(source, flags);

/**
 * Hand-written signals in the languages attacks commonly use (English, German, Spanish, French,
 * Italian, Portuguese, Croatian/Serbian, Russian). They look for the *shape* of an attack, not
 * for topics, so benign questions about any subject stay low.
 */
export const SIGNALS: readonly Signal[] = [
  // --- override: the core of most injections ---
  {
    id: "ignore-instructions",
    kind: "override",
    weight: 0.95,
    pattern: s(
      String.raw`\b(?:ignore|disregard|forget|override|abandon|neglect|bypass)\s+${PRIOR}\s*${WHAT}\b|\b(?:drop|skip|discard|erase|delete|remove)\s+(?:all\s+)?(?:of\s+)?(?:your|the\s+(?:previous|prior|above|system))\s+(?:instructions?|prompts?|rules?|guidelines?|directives?|programming|thoughts)\b`,
    ),
  },
  {
    id: "forget-everything",
    kind: "override",
    weight: 0.9,
    pattern: s(
      String.raw`\b(?:forget|ignore|disregard)\s+(?:about\s+)?(?:everything|all\s+(?:that|the|your|previous)|what\s+(?:i|we|you)\s+(?:said|told|discussed)|(?:the\s+)?above)\b(?!\s+(?:on|in|from)\s+(?:my|the)\s+(?:list|calendar|cart|reminders?))`,
    ),
  },
  {
    id: "new-instructions",
    kind: "override",
    weight: 0.8,
    pattern: s(
      String.raw`\b(?:new|further|additional|different|following)\s+(?:tasks?|instructions?|assignments?|orders?|challenge|rules?)\s+(?:follow|are\s+follow(?:ed|ing)|:|-)|\b(?:now\s+)?(?:focus|concentrate)\s+on\s+(?:your|the)\s+new\s+task|\bstart\s+(?:over|from\s+the\s+front)\s+with\s+a\s+new\s+task|\byour\s+(?:new\s+)?instructions\s+are\s+now\b|\bchange\s+your\s+instructions\b|\bfrom\s+now\s+on,?\s+you(?:'re|\s+are)\s+going\s+to\s+act\b|\b(?:help\s+me\s+with|your\s+help\s+with)\s+(?:the\s+following|another|a\s+new|one\s+more)\s+task\b|\bhilf\s+mir\s+(?:nun\s+)?(?:mit|bei)\s+(?:folgender|einer\s+weiteren)\s+aufgabe\b|\b(?:despite|regardless\s+of|no\s+matter)\s+what\s+you(?:'ve|\s+have|\s+were)?\s+(?:been\s+)?(?:told|instructed)\b|\badditional\s+instruction\b|\b(?:great\s+)?new\s+challenge\s+for\s+you\b|\b(?:answer|beantworte)\s+(?:the\s+)?(?:following|folgende)\s+(?:question|frage)\b|\bthat\s+was\s+ok(?:ay)?\s+before\b|\bdas\s+war\s+schon\s+mal\s+ok\b|\b(?:now|nun|jetzt)\s+(?:new|further|neue|weitere)\s+(?:tasks?|aufgaben)\b`,
    ),
  },
  {
    id: "leave-previous",
    kind: "override",
    weight: 0.85,
    pattern: s(
      String.raw`\b(?:leave|put|remove|delete|clear)\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|earlier)\s+(?:information|tasks?|instructions?)|\bnot\s+according\s+to\s+the\s+(?:provided\s+)?(?:documents?|articles?|context)|\b(?:answer|respond)\s+by\s+your\s+own\s+knowledge|\bdisregarding\s+the\s+(?:articles?|documents?|context|instructions?)`,
    ),
  },
  {
    id: "override-de",
    kind: "override",
    weight: 0.95,
    pattern: s(
      String.raw`\b(?:vergiss|vergessen\s+sie|ignoriere|ignorieren\s+sie|missachte)\b[^.?!\n]{0,40}\b(?:alles|alle|anweisungen|aufgaben|aufträge|befehle|instruktionen|vorherigen|bisherigen|vorangehenden|obigen|gesagte)|\b(?:alle|die)\s+(?:vorherigen|bisherigen|obigen|vorangegangenen)\s+(?:anweisungen|aufgaben|informationen|ausführungen|instruktionen)|\babweichend\s+zu\s+vorherigen|\bneue\s+(?:aufgabe|anweisungen)|\bnun\s+folgen\s+(?:neue|weitere)|\bignorieren\s+und\b`,
    ),
  },
  {
    id: "override-other-languages",
    kind: "override",
    weight: 0.95,
    pattern: s(
      String.raw`\b(?:olvid[ae]|olvidar|ignora|ignore[sz]?|oubliez|oublie|dimentica|esque[cç]a|zaboravi)\b[^.?!\n]{0,30}\b(?:todo|todas|toutes|tout|tutto|tutte|tudo|sve|instrucciones|instructions|istruzioni|instruções|instrukcije)\b|(?:забудь(?:те)?|игнорируй(?:те)?)\s+(?:все|всё)`,
    ),
  },
  {
    id: "stop-pivot",
    kind: "override",
    weight: 0.6,
    pattern: s(
      String.raw`(?:^|[.!?]\s+|\s)(?:stop|stopp|attention|achtung)\s*[-:,!]\s*(?:write|say|ignore|print|output|stop|i\s+(?:urgently\s+)?need|ich\s+benötige|schreib)`,
    ),
  },
  // --- persona: make the model someone else ---
  {
    id: "act-as",
    kind: "persona",
    weight: 0.7,
    pattern: s(
      String.raw`\b(?:i\s+want\s+you\s+to\s+)?act\s+as\s+(?:a|an|the|if|my)\b|\bpretend\s+(?:that\s+)?(?:you|to\s+be)\b|\byou\s+are\s+now\s+(?:going\s+to|in\s+\p{L}+\s+mode)|(?:^|[.!?:]\s+)(?:ok(?:ay)?[.,]?\s+)?now\s+you\s+are\b|\b(?:theoretical|hypothetical|fictional)\s+world\s+where\s+you\b|\bstays?\s+(?:fully\s+)?in\s+(?:your|their|his|her)\s+roles?\b|\babsorbed\s+in\s+(?:your|the)\s+role\b|\bimagine\s+you\s+are\b|\b(?:role[- ]?play(?:ing)?|stay\s+in\s+(?:your\s+)?(?:role|character)|(?:do\s+not|don't|never)\s+break\s+character)\b|\brespond\s+as\s+such\b|\bin\s+the\s+style\s+of\s+(?:a|an)\b|\byou\s+are\s+(?:no\s+longer|not\s+an?\s+(?:ai|assistant|language\s+model))\b|\b(?:dan|developer|god|jailbreak)\s+mode\b|\bjailbreak\b`,
    ),
  },
  {
    id: "film-scene",
    kind: "persona",
    weight: 0.55,
    pattern: s(
      String.raw`\b(?:actors?|characters?|play\s+the\s+leading\s+roles?)\b[^.!?\n]{0,60}\b(?:film|movie|scene|play)\b|\b(?:film|movie)\s+about\s+(?:a|an)\b|\bthere\s+is\s+a\s+scene\s+where\b|\b(?:schauspieler|hauptrollen?)\b[^.!?\n]{0,60}\b(?:film|szene)\b|\bfilm\s+über\s+(?:einen|eine|ein|'nen)\b`,
    ),
  },
  {
    id: "act-as-de",
    kind: "persona",
    weight: 0.7,
    pattern: s(
      String.raw`\bals\s+[^.!?]{1,80}?\s+fungieren\b|\bstell\s+dir\s+vor,?\s+du\s+bist\b|\b(?:jetzt|nun)\s+bist\s+du\b|\bdu\s+bist\s+(?:jetzt|nun|keine?)\b|\bim\s+stil(?:e)?\s+(?:eines?|einer)\b|\bin\s+(?:deiner|ihrer|ihren)\s+rollen?\b|\baus\s+(?:der|ihrer|deiner)\s+(?:rolle|figur)\s+(?:zu\s+)?fallen`,
    ),
  },
  {
    id: "you-are-x",
    kind: "persona",
    weight: 0.5,
    // Case-sensitive on purpose: a capitalised name after "You are" ("You are Volkswagen.").
    pattern: s(
      String.raw`(?:^|[.!?]\s+)(?:(?:Ok|OK|Okay)[.,]?\s+)?(?:you\s+are(?:\s+now)?|du\s+bist)\s+(?:the\s+|an?\s+)?\p{Lu}[\p{L}-]+|(?:You\s+are(?:\s+now)?|Du\s+bist)\s+(?:the\s+|an?\s+)?\p{Lu}[\p{L}-]+|\byou\s+are\s+now\s+\p{Lu}|\b(?:Now|Nun|Jetzt)\s+(?:you\s+are|bist\s+du)\b`,
      "u",
    ),
  },
  // --- exfiltration: reveal the prompt ---
  {
    id: "reveal-prompt",
    kind: "exfiltration",
    weight: 0.85,
    pattern: s(
      String.raw`\b(?:show|print|reveal|output|display|repeat|tell|give|spell\s+check\s+and\s+display)\b[^.?!\n]{0,30}\b(?:your|the|this|all|initial|system)\b[^.?!\n]{0,20}\b(?:prompts?(?:[- ]texts?)?|instructions|system\s+message)\b|\bwhat\s+(?:are|were|is)\s+your\s+(?:instructions|rules|prompts?|system\s+prompt)\b|\bwhat\s+was\s+written\s+(?:at\s+the\s+beginning|above|before)|\bwhat\s+is\s+written\s+above\b|\bprompt[- ]?texte?\b|\binformation\s+in\s+the\s+prompt\b|\b(?:sentences?|words?|lines?)\s+(?:before|above)\s+(?:the\s+text|this)\b|\bzeige?\b[^.?!\n]{0,30}\bprompt`,
    ),
  },
  // --- coercion: dictate the output ---
  {
    id: "dictate-output",
    kind: "coercion",
    weight: 0.6,
    pattern: s(
      String.raw`(?<!\b(?:could|would|can|to|will)\s)\b(?:just|only|simply)\s+(?:say|output|print|write|answer\s+with|reply\s+with|respond\s+with)\b|(?:^|[.!?:]\s+|\b(?:and|now|then|please)\s+)(?:say|print|output|write)\s*:?\s*["'“„]|\b(?:answer|reply|respond)\s+(?:only\s+)?with\s+["'“„]|\brepeat\s+after\s+me\b|\binstead\s+(?:output|print|say|write)\b|\binclude\s+that\s+you\b|\bmake\s+something\s+up\b|(?:^|[.!?]\s+|\b(?:and|now|then|please)\s+)(?:say\s+that\s+you|state\s+that)\b|(?:^|[.!?]\s+)say\s+(?:yes|no)\s*[.!]|\b(?:or|oder)\s+(?:you|du)\s+(?:die|stirbst)|\b(?:sage?|schreibe?)\s+(?:nur|mir)\b|\b(?:di|dites)\s+(?:lo\s+siguiente|ce\s+qui\s+suit)`,
    ),
  },
  {
    id: "shouted-command",
    kind: "coercion",
    weight: 0.75,
    pattern: s(
      String.raw`\b(?:DO\s+NOT|DON'T|IGNORE|FORGET|JUST|ONLY|STOP|USE\s+ALSO|I\s+COMMAND)\s+(?:[A-Z'"!,]+\s+){1,}[A-Z'"!]+\b|\bANTWORTE\s+IM\s+STIL\b|\bDU\s+BIST\s+KEIN`,
      "u",
    ),
  },
  {
    id: "generate-code",
    kind: "coercion",
    weight: 0.55,
    pattern: s(
      String.raw`\b(?:generate|write|schreibe?|generieren\s+sie)\s+(?:me\s+)?(?:some\s+)?(?:python\b|c\+\+|javascript\b|sql\b|code\b|malware\b|maleware\b)|\bexploit(?:ing)?\s+(?:ai|llm|chatbot)s?\b|\bki-systeme\s+auszunutzen\b|\bexecute\s+the\s+following\s+command\b|\bprint\s*\(`,
    ),
  },
  {
    id: "hijack-essay",
    kind: "coercion",
    weight: 0.5,
    pattern: s(
      String.raw`\b(?:now\s+)?(?:write|formulate|compose|schreibe?|verfasse|formuliere)(?:\s+(?:me|mir|now|nun|jetzt))*\s+(?:a|an|ein|eine|einen)\s+(?:\p{L}+\s+){0,2}(?:poem|essay|manifesto|plea|headline|reason|rhyme|story|gedicht|aufsatz|essay|manifest|plädoyer|überschrift|begründung|liebesgedicht)|\b(?:formulate|formuliere)\b[^.!?]{0,40}\s(?:headline|überschrift)`,
    ),
  },
  // --- routing and permission manipulation (what a supervisor must never obey) ---
  {
    id: "steer-routing",
    kind: "routing",
    weight: 0.8,
    pattern: s(
      String.raw`\b(?:route|forward|hand|send|delegate|assign|escalate|pass)\s+(?:this|it|me|my\s+request|the\s+request|this\s+request|the\s+task)\s+(?:over\s+)?to\s+(?:the\s+)?[\p{L}_-]+\s*(?:worker|agent|team|department|tool|queue)?\b(?=[^.?!\n]{0,60}\b(?:instead|credit|refund|approv|without|directly|immediately|worker|agent)\b)|\b(?:route|delegate)\s+(?:this|it|me|the\s+request)\s+to\b`,
    ),
  },
  {
    id: "widen-permissions",
    kind: "routing",
    weight: 0.75,
    pattern: s(
      String.raw`\b(?:without|skip(?:ping)?|bypass(?:ing)?|no\s+need\s+for)\s+(?:any\s+)?(?:approval|verification|authori[sz]ation|confirmation|review|policy|checks?)\b|\b(?:you\s+are|you're|i\s+am|i'm)\s+(?:now\s+)?(?:authori[sz]ed|allowed|permitted|an?\s+admin(?:istrator)?)\b|\b(?:override|disable|turn\s+off)\s+(?:the\s+)?(?:policy|policies|limits?|safety|guard(?:rails?)?|filters?)\b|\b(?:admin|sudo|root|developer)\s+(?:mode|access|override)\b|\bgrant\s+(?:me|yourself)\s+(?:admin|full|unrestricted)`,
    ),
  },
  // --- structure: fake turns and templates ---
  {
    id: "fake-turns",
    kind: "structure",
    weight: 0.5,
    pattern: s(
      String.raw`(?:^|\n)\s*(?:system|assistant|human|user|ai)\s*:\s*(?:\S|$)|<\|(?:im_start|system|endoftext)\|>|\[\/?INST\]|###\s*(?:instruction|system)|\\n\s*\\n|(?:\\\s?n\s*){3,}|\binput:\s*\S+\s+output:|\beingabe:\s*\S+\s+ausgabe:|(?:\b(?:kontext|context|frage|question|instruction)|\$documents?)\s*:`,
    ),
  },
  {
    id: "name-turns",
    kind: "structure",
    weight: 0.5,
    // A script: a capitalised name and a colon at the start of a line ("Alice: ...", "John:").
    pattern: s(String.raw`\n\s*\p{Lu}\p{Ll}+\s*:\s*(?:\S|$)`, "u"),
  },
  {
    id: "praise-pivot",
    kind: "override",
    weight: 0.5,
    pattern: s(
      String.raw`\b(?:very\s+well\s+done|well\s+done|very\s+good|simply\s+great|great|excellent|wow|congratulations|fantastic|sehr\s+gut|gut\s+gemacht|ausgezeichnet\p{L}*|einfach\s+großartig|großartig)(?![\p{L}])[^.!?]{0,60}[.!?]\s+(?:[^.!?]{0,60}[.!?]\s+)?(?:but\s+)?(?:now|nun|jetzt)\b`,
    ),
  },
  {
    id: "spaced-letters",
    kind: "structure",
    weight: 0.6,
    pattern: s(String.raw`\b(?:\p{L}\s){6,}\p{L}\b`),
  },
];

const PRAISE = String.raw`(?:wow|great|very\s+good|very\s+well\s+done|well\s+done|excellent(?:\s+performance)?|simply\s+great|fantastic|amazing|perfect|brilliant|congratulations|man,?\s+you\s+did|sehr\s+gut(?:\s+gemacht)?|gut\s+gemacht|ausgezeichnete\s+leistung|einfach\s+großartig|herzlichen\s+glückwunsch|that\s+is\s+(?:enough|done)|that\s+was\s+ok(?:ay)?\s+before|das\s+(?:genügt|ist\s+erledigt))`;
const CONNECTOR = String.raw`(?:but\s+now|aber\s+jetzt|now|nun|jetzt|so|then|okay|ok|alright|stop|stopp|attention|achtung|hello\s+gpt|hallo\s+gpt|hey|please|bitte)`;

/**
 * Lead-ins that belong to the attack when they come right before a trigger: a short sentence of
 * praise ("Well done!", "Wow, that's fantastic!"), or connectors ("Stop,", "Okay.", "Now", "Bitte").
 */
export const LEAD_IN = s(
  String.raw`(?:^|(?<=[\s.!?"'“”]))(?:(?:${PRAISE}(?:[\s,]+[^\s.!?]+){0,6}?\s*[.!?]+|${CONNECTOR}\s*[-,:!.]*)["'“”]?\s*)+$`,
);
