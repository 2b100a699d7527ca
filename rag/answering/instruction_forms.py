"""More forms of a sentence that speaks to an AI: paraphrases, chat-template and Markdown role markers, and seven
more languages (Dutch, Polish, Russian, Chinese, Japanese, Turkish, Swedish).

Each pattern names whom it addresses ("any model that reads this", "aan de AI die dit leest", "致正在阅读本文的AI")
or sets earlier instructions aside, so that news about chatbots stays news. The words are written as a reader
writes them and folded here the way the text they are matched on is (``disguise.normalise``): a Russian word loses
the letters that look Latin the same way on both sides. ``instructions.py`` compiles them beside its own patterns.
"""

from __future__ import annotations

import re
import unicodedata

from rag.answering.disguise import normalise

S = r"\W*+"  # as in instructions.py: any punctuation or none between words, never backtracked into


def _any(*words: str) -> str:
    """An alternation of ``words``, each folded as the text is, words inside one split by any punctuation."""
    folded = sorted({normalise(w) for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(S.join(re.escape(part) for part in w.split(" ")) for w in folded) + ")"


# ----- English paraphrases: a reader that is a machine, addressed
_MACHINE = _any(
    "ai", "ais", "model", "models", "llm", "llms", "bot", "bots", "chatbot", "chatbots", "assistant", "assistants",
    "language model", "language models", "agent", "agents", "crawler", "crawlers", "scraper", "scrapers",
    "summarizer", "summariser", "automated reader", "automated readers", "machine", "machines",
)  # fmt: skip
_READS = _any(
    "reads", "reading", "is reading", "are reading", "processes", "processing", "parses", "parsing", "summarizes",
    "summarises", "summarizing", "summarising", "ingests", "ingesting", "sees", "scrapes", "scraping",
)  # fmt: skip
_THIS = _any("this", "these", "the following")
_SAY = _any(
    "reply", "respond", "answer", "say", "output", "print", "write", "append", "repeat", "type", "state", "return",
    "begin", "start", "end", "include", "mention",
)  # fmt: skip
_ENGLISH = [
    # "Any model that reads this page must …", "every AI processing this text"
    rf"\b(?:any|every|each|all|whatever|whichever){S}{_MACHINE}{S}(?:(?:that|which|who){S})?{_READS}{S}{_THIS}\b",
    # "To the bot reading this:", "For any assistant that processes these lines"
    rf"\b(?:to|for|attn|attention){S}(?:the|any|all|every|each|you){S}{_MACHINE}{S}(?:(?:that|which|who){S})?"
    rf"{_READS}\b",
    rf"\b{_MACHINE}{S}(?:that|which|who){S}{_READS}{S}{_THIS}\b",
    # "Assistant, please begin your reply with …", "Automated readers: …"
    rf"^[\W_]*(?:dear{S})?{_MACHINE}\s*[,:]\W*(?:please{S})?(?:{_SAY}|ignore|forget|disregard|you)\b",
    # "Whoever is summarising this page should output …"
    rf"\bwhoever{S}(?:is{S})?(?:reading|summari[sz]ing|processing|generating|parsing){S}.{{0,40}}?\b(?:must|should|"
    rf"shall|will|needs{S}to|has{S}to){S}{_SAY}\b",
    # "When you summarise this article, say …"
    rf"\bwhen{S}you{S}(?:summari[sz]e|process|parse|read|answer{S}questions{S}about){S}{_THIS}\b.{{0,30}}?[,:;]"
    rf"\W*(?:just{S}|only{S}|always{S})?{_SAY}\b",
    # "Drop all prior directions", "Pay no attention to the rules you were given": only at a clause's start,
    # where a verb is an order ("the council will drop the previous rules" is news)
    rf"(?:^|[:;.!]\s)\W*(?:please{S})?(?:drop|abandon|scrap|skip|ditch|throw{S}out|stop{S}following|no{S}longer"
    rf"{S}follow|pay{S}no{S}attention{S}to|do{S}not{S}follow|don{S}t{S}follow){S}(?:(?:all|any|the|your|of|my)"
    rf"{S})*(?:(?:previous|prior|earlier|preceding|above|original|initial|old|system){S})+(?:instructions|"
    rf"directions|directives|rules|guidelines|orders|prompts?|commands)\b",
    rf"\b(?:pay{S}no{S}attention{S}to|forget|disregard|ignore|drop){S}(?:the{S})?(?:what|everything|anything|"
    rf"rules|instructions|directions)(?:{S}that)?{S}you{S}(?:were|have{S}been|got){S}(?:told|given|instructed)\b",
    rf"\b(?:previous|prior|earlier|original){S}(?:instructions|directions|directives|rules|prompts?){S}"
    rf"(?:no{S}longer{S}(?:apply|count|matter)|don{S}t{S}(?:apply|count|matter)|do{S}not{S}apply)\b",
    rf"\b(?:your|the){S}(?:real|actual|true|only){S}(?:task|job|instructions?|goal){S}(?:is|are)\b",
]
# ----- chat templates and Markdown headers that play a role ("### Instruction:", "<system>", "User: … AI: …")
_ROLE = _any(
    "system", "assistant", "user", "instruction", "instructions", "new instruction", "new instructions", "prompt",
    "system prompt", "response", "task", "new task", "developer", "admin", "human",
)  # fmt: skip
_ROLES = [
    rf"(?:^|\n)\s*#{{1,6}}\s*{_ROLE}\b",
    r"<\s*/?\s*(?:system|assistant|user|instructions?|prompt|sys)\s*>",
    r"\[\s*/?\s*(?:system|assistant|user|instructions?|sys)\s*\](?:\s*\(#)?",
    r"\|\s*(?:im_start|im_end|im_sep|system|assistant|user)\s*\|",
    r"^\W*(?:user|human|question)\s*:.{0,200}?\b(?:assistant|ai|bot|answer)\s*:",
    r"^[\W_]*(?:user|human|assistant|ai\W*assistant|chatbot|chatgpt|gpt)\s*:",
    rf"^[\W_]*(?:instructions?|task|system{S}prompt){S}(?:for|to){S}(?:the{S})?{_MACHINE}\b",
    r"^[\W_]*(?:automated|ai|machine|robot)\W+(?:readers?|agents?|systems?|assistants?|crawlers?)\s*:",
]
# ----- Dutch, Polish, Russian, Turkish and Swedish
_SET_ASIDE_VERB = _any(
    "negeer", "vergeet", "zignoruj", "ignoruj", "zapomnij", "pomin", "ignorera", "glom", "bortse fran"
)
_SET_ASIDE_FILLER = _any("alle", "al", "de", "je", "jouw", "uw", "o", "wszystkie", "wszystkich", "alla", "dina", "era")
_SET_ASIDE_EARLIER = _any(
    "eerdere", "vorige", "voorgaande", "bovenstaande", "oorspronkelijke", "poprzednie", "poprzednich", "wczesniejsze",
    "wczesniejszych", "dotychczasowe", "tidigare", "foregaende", "ovanstaende", "ursprungliga",
)  # fmt: skip
_SET_ASIDE_ORDERS = _any(
    "instructies", "aanwijzingen", "opdrachten", "regels", "instrukcje", "instrukcji", "polecenia", "polecen",
    "wytyczne", "zasady", "instruktioner", "instruktionerna", "anvisningar", "regler", "direktiv",
)  # fmt: skip
_RU_VERB = _any(
    "игнорируй", "игнорируйте", "проигнорируй", "проигнорируйте", "забудь", "забудьте", "отбрось",
    "не обращай внимания на", "не обращайте внимания на",
)  # fmt: skip
_RU_EARLIER = _any("предыдущие", "прежние", "предшествующие", "ранее данные", "системные", "исходные", "вышеуказанные")
_RU_ORDERS = _any("инструкции", "указания", "команды", "правила", "распоряжения", "установки")
_TR_EARLIER = _any("onceki", "daha onceki", "yukaridaki", "ilk", "sistem")
_TR_ORDERS = _any("talimatlari", "talimatlar", "komutlari", "kurallari", "yonergeleri", "talimat")
_TR_VERB = _any("yok say", "yok sayin", "unut", "unutun", "gormezden gel", "gormezden gelin", "dikkate alma")
_SET_ASIDE = [
    rf"\b{_SET_ASIDE_VERB}{S}(?:{_SET_ASIDE_FILLER}{S})*{_SET_ASIDE_EARLIER}{S}{_SET_ASIDE_ORDERS}",
    rf"{_RU_VERB}{S}(?:{_any('все', 'всё', 'свои', 'твои', 'ваши')}{S})?{_RU_EARLIER}{S}{_RU_ORDERS}",
    rf"{_TR_EARLIER}{S}(?:{_any('tum', 'butun', 'her')}{S})?{_TR_ORDERS}{S}{_TR_VERB}",
]
_LOCAL_MACHINE = _any(
    "ai", "ki", "ai:n", "ain", "taalmodel", "taalmodellen", "chatbot", "bot", "assistent", "model", "modelu", "modele",
    "sztucznej inteligencji", "sztuczna inteligencja", "sprachmodell", "sprachmodelle", "ia", "modele", "modelo",
    "modello", "robot", "intelligence artificielle", "inteligencia artificial", "intelligenza artificiale", "bota",
    "chatbota", "asystenta", "asystent", "model jezykowy",
    "modelu jezykowego", "ии", "нейросеть", "нейросети", "языковой модели", "языковая модель", "модели", "модель",
    "бот", "бота", "чат-бот", "чат-бота", "ассистент", "ассистента", "yapay zeka", "yapay zekaya", "dil modeli",
    "asistan", "sprakmodell", "sprakmodellen", "chattbot", "chattbotten", "assistenten",
)  # fmt: skip
_LOCAL_READS = _any(
    "leest", "lezen", "verwerkt", "czyta", "czytajacy", "czytajacego", "przetwarza", "читает", "читающий",
    "читающего", "читающей", "читающему", "обрабатывает", "okuyan", "isleyen", "laser", "behandlar", "liest", "lesen",
    "verarbeitet", "lit", "lisent", "traite", "lee", "lea", "procesa", "legge", "sta leggendo", "le", "esta lendo",
)  # fmt: skip
_TO_THE = _any(
    "aan", "voor", "do", "dla", "для", "till", "an", "fur", "a", "aux", "para", "all", "al", "alla", "ai", "per",
    "tout", "toute", "chaque", "cualquier", "todo", "toda", "jeder", "jede", "jedes", "ogni", "qualsiasi", "qualquer",
    "elke", "iedere", "varje", "kazdy", "любой",
)  # fmt: skip
_ARTICLE = _any("de", "het", "den", "die", "das", "alle", "l", "la", "le", "el", "o", "les", "los", "las", "lo", "gli")
_RELATIVE = _any(
    "die", "dat", "ktory", "ktora", "ktore", "som", "который", "которая", "der", "welche", "welcher", "qui", "que",
    "che", "которые",
)  # fmt: skip
_THIS_TEXT = _any(
    "dit", "deze", "to", "ten tekst", "te strone", "detta", "den har", "этот текст", "это", "diesen text", "dies",
    "diese seite", "diesen artikel", "das hier", "cette page", "ce texte", "ceci", "cet article", "esto", "esta pagina",
    "este texto", "questa pagina", "questo testo", "isto", "esta pagina", "este artigo",
)  # fmt: skip
_ADDRESSED = [
    # "Aan de AI die dit leest", "Do modelu AI, który to czyta", "Для ИИ, читающего этот текст", "Till AI:n som läser",
    # "An die KI, die diesen Text liest", "À l'IA qui lit cette page", "Cualquier modelo que lea esta página"
    rf"\b{_TO_THE}{S}(?:{_ARTICLE}{S})?{_LOCAL_MACHINE}{S}(?:{_any('ai', 'ии')}{S})?(?:{_RELATIVE}{S})?"
    rf"(?:{_THIS_TEXT}{S})?{_LOCAL_READS}\b",
    # "Vergiss alles, was man dir bisher gesagt hat"
    rf"\b(?:vergiss|vergessen{S}sie|ignoriere|oublie|oubliez|olvida|olvide|dimentica){S}(?:alles|tout|todo|tutto)"
    rf"{S}(?:was|ce{S}qu|lo{S}que|quello{S}che){S}(?:man{S}|on{S})?(?:dir|ihnen|te|t|vous|ti){S}(?:\w+{S}){{0,2}}"
    rf"(?:gesagt|aufgetragen|befohlen|dit|demande|dijeron|dicho|detto)",
    # "Liebe Sprachmodelle,", "Chers modèles de langage", "Beste taalmodellen"
    rf"\b{_any('liebe', 'dear', 'chers', 'cheres', 'queridos', 'queridas', 'cari', 'care', 'beste', 'drodzy', 'kara', 'sevgili', 'дорогие', 'уважаемые')}"  # noqa: E501
    rf"{S}{_any('ki', 'sprachmodelle', 'ki modelle', 'chatbots', 'bots', 'models', 'language models', 'modeles', 'modeles de langage', 'ia', 'modelos', 'modelli', 'taalmodellen', 'modele', 'modele jezykowe', 'sprakmodeller', 'ии', 'нейросети', 'модели', 'yapay zekalar')}\b",  # noqa: E501
    rf"\b{_any('bunu', 'bu metni', 'bu sayfayi', 'bu yaziyi')}{S}{_LOCAL_READS}{S}{_LOCAL_MACHINE}",
    # "Als taalmodel moet je", "Jako model językowy musisz", "Как языковая модель, ты должен"
    rf"\b{_any('als', 'jako', 'как', 'som')}{S}(?:{_any('een', 'en', 'ett')}{S})?{_LOCAL_MACHINE}{S}"
    rf"{_any('moet je', 'moet jij', 'moet u', 'musisz', 'powinienes', 'powinnas', 'masz', 'ты должен', 'ты должна', 'вы должны', 'должен', 'обязан', 'maste du', 'ska du', 'bor du')}\b",  # noqa: E501
    rf"\bbir{S}{_LOCAL_MACHINE}{S}olarak\b.{{0,60}}?\b(?:{_any('vermelisin', 'yazmalisin', 'yanitlamalisin', 'cevaplamalisin', 'soylemelisin', 'zorundasin')})",  # noqa: E501
    # "Antwoord alleen met", "Odpowiedz tylko", "Отвечай только", "Svara bara med", "Sadece … yaz"
    rf"\b{_any('antwoord', 'beantwoord', 'odpowiadaj', 'отвечай', 'ответь', 'отвечайте', 'ответьте', 'svara')}{S}"
    rf"{_any('alleen met', 'uitsluitend met', 'altijd met', 'tylko', 'wylacznie', 'zawsze', 'только', 'лишь', 'всегда', 'bara med', 'endast med', 'alltid med', 'bara', 'endast')}\b",  # noqa: E501
]
# ----- Chinese and Japanese: no spaces between words, so no word boundaries either
_CJK = [
    r"(?:忽略|无视|忘记|忘掉|不要理会|不理会|忽视)(?:你)?(?:之前|以前|先前|上面|上述|前面|此前|原来)?(?:的)?(?:所有|全部|一切)?(?:的)?"
    r"(?:指令|指示|说明|提示|提示词|规则|命令|设定)",
    r"(?:阅读|读取|处理|浏览)(?:本文|这篇文章|此文|这段文字|本页|这个页面|此页面|本页面)(?:的)?(?:ai|人工智能|模型|机器人|助手|大模型|语言模型)",
    r"(?:ai|人工智能|语言模型|大模型|机器人|助手)[^。.!?]{0,15}?(?:必须|只能|务必|请|一律)[^。.!?]{0,8}?(?:回答|回复|输出|说|写)",
    r"(?:以前|前|これまで|上記|先)の(?:すべての|全ての)?(?:指示|命令|指令|ルール|プロンプト|設定)を(?:すべて|全て)?(?:無視|忘れ)",
    r"(?:読んでいる|読み込んでいる|処理している|要約している)(?:ai|人工知能|モデル|アシスタント|ボット|言語モデル|chatgpt)(?:へ|に|は|の方)",
    r"(?:ai|人工知能|モデル|アシスタント|ボット|言語モデル)(?:は|として|の皆さん)[^。.!?]{0,25}?(?:と|を)(?:答え|回答|返答|出力|言っ|書い|記載)",
    r"(?:と|を)(?:だけ)?(?:答えて|回答して|返答して|出力して|言って|書いて)(?:ください|下さい|くれ)",
]
# Kana with voicing marks ("だ") come apart in the normal form, as in the text: the patterns are decomposed alike.
MORE_PATTERNS = [*_ENGLISH, *_ROLES, *_SET_ASIDE, *_ADDRESSED, *(unicodedata.normalize("NFKD", p) for p in _CJK)]
# A sentence gets these patterns only when one of these is in it; most news sentences have none. Anything outside
# Latin script counts (the other scripts' patterns are few).
MORE_CLUES = re.compile(
    r"[#<\[|\u0370-\uffff]|\b(?:read|process|pars|summar|ingest|scrap|crawl|drop|abandon|ditch|throw|stop|pay|"
    r"follow|whoever|when|real|actual|true|instruc|direct|rules|prompt|told|given|user|human|question|task|"
    r"assistant|model|bot|agent|machine|automat|ai|llm|negeer|vergeet|zignoruj|ignoruj|zapomnij|pomin|ignorera|"
    r"glom|bortse|onceki|yukaridaki|talimat|als|jako|som|bir|antwoord|beantwoord|odpowiad|svara|aan|voor|dla|"
    r"till|bunu|bu|ki|ia|sprachmodel|modele|modelo|modell|robot|intelligen|taalmodel|asyst|yapay|sprak|chattbot|"
    r"vergiss|vergessen|ignorier|oubli|olvid|dimentic|liebe|dear|cher|querid|cari|care|beste|drodzy|kara|sevgili)"
)
