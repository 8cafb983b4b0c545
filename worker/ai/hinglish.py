"""Romanized Hindi-English ("Hinglish") read as English, word for word.

Many of SatyaMark's readers write Hindi in Latin letters mixed with English ("Taj Mahal
Agra mein hai"). The bundled encoder and the word-level check are English; glossing the
common Hindi function words and everyday nouns and verbs into English lets the English
ones carry the claim ("Taj Mahal Agra in is"), which is enough for the sentence
embedding to find the known claim and for a "nahi" to count as a negation. Hindi puts
the negation after what it negates and the verb last; the gloss moves "not" before the
word it follows and leaves the rest in Hindi order (the word-level check does not read
roles from an order it did not see: see ``stance.role_swap``).

A text is glossed only when it reads as Hinglish: at least two of its words are Hindi
function words that English does not have. A multilingual encoder and NLI model, where
configured, would read it as it is; the gloss is for the English defaults.
"""

from __future__ import annotations

import re

# Words only Hindi has (English has no "hai", "nahi", "mein"): two of them make a text
# Hinglish. Short English look-alikes ("the", "to", "me", "par") are left out.
_MARKERS = frozenset(
    "hai hain tha thi nahi nahin nhi mein mai ka ki ke ko se aur bhi yeh ye woh wo kya "
    "kyun kyunki hota hoti hote toh bhai yaar sabse sirf bahut kabhi hua hui gaya gayi "
    "wala wali wale jata jati karta karti karte raha rahi rahe sakta sakti hum tum aap "
    "apna apni unka unki iska iski uska uski pe ne".split()
)
_GLOSS = {
    # being, negation, function words
    "hai": "is", "hain": "are", "tha": "was", "thi": "was", "hota": "is", "hoti": "is",
    "hote": "are", "hua": "was", "hui": "was", "nahi": "not", "nahin": "not", "nhi": "not",
    "mat": "not", "ka": "of", "ki": "of", "ke": "of", "mein": "in", "mai": "in",
    "me": "in", "se": "from", "ko": "to", "pe": "on", "par": "on", "aur": "and",
    "bhi": "also", "yeh": "this", "ye": "this", "woh": "that", "wo": "that", "kya": "what",
    "kyunki": "because", "sabse": "most", "sab": "all", "sirf": "only", "bahut": "very",
    "kabhi": "ever", "hamesha": "always", "kuch": "some", "zyada": "more", "jyada": "more",
    "kam": "less", "bada": "big", "badi": "big", "bade": "big", "chota": "small",
    "choti": "small", "pehla": "first", "pehli": "first", "pehle": "first", "sach": "true",
    "jhooth": "false", "jhoot": "false", "galat": "wrong", "sahi": "right",
    # places and things
    "bharat": "India", "hindustan": "India", "duniya": "world", "desh": "country",
    "rajdhani": "capital", "shahar": "city", "sheher": "city", "rajya": "state",
    "nadi": "river", "pahad": "mountain", "samundar": "sea", "suraj": "Sun", "chand": "Moon",
    "chaand": "Moon", "dharti": "Earth", "prithvi": "Earth", "paani": "water",
    "pani": "water", "hawa": "air", "aag": "fire", "saal": "years", "din": "day",
    "raat": "night", "log": "people", "bachche": "children", "doodh": "milk",
    "khana": "food", "dimaag": "brain", "dil": "heart", "khoon": "blood", "haddi": "bone",
    "haddiyan": "bones", "aankh": "eye", "aankhen": "eyes", "dawai": "medicine",
    "ilaaj": "cure", "bimari": "disease", "sarkar": "government", "paisa": "money",
    "note": "note", "sona": "gold", "chandi": "silver",
    "insaan": "human", "insan": "human", "aadmi": "man", "aurat": "woman", "raja": "king",
    "rani": "queen", "yudh": "war", "jung": "war", "azadi": "independence",
    "aazadi": "independence", "angrez": "British", "angrezon": "British",
    "mandir": "temple", "kila": "fort", "ped": "tree", "phal": "fruit",
    "sabzi": "vegetable", "janwar": "animal", "jaanwar": "animal", "machli": "fish",
    "chidiya": "bird", "sher": "lion", "baagh": "tiger", "haathi": "elephant",
    "saanp": "snake", "kutta": "dog", "kutte": "dogs", "billi": "cat", "gaay": "cow",
    "haldi": "turmeric", "nimbu": "lemon", "neembu": "lemon", "namak": "salt",
    "cheeni": "sugar", "barish": "rain", "baarish": "rain", "bijli": "electricity",
    "garmi": "heat", "sardi": "cold", "garam": "hot", "thanda": "cold", "lamba": "long",
    "lambi": "long", "ooncha": "high", "oonchi": "high", "gehra": "deep", "gehri": "deep",
    "hafta": "week", "mahina": "month", "sadi": "century", "ganit": "mathematics",
    "vigyan": "science", "itihaas": "history", "dawa": "medicine", "beemari": "disease",
    "ilaj": "cure", "jaan": "life", "maut": "death", "shareer": "body", "sharir": "body",
    "dant": "teeth", "daant": "teeth", "baal": "hair", "naakhun": "nails",
    # doing
    "banaya": "built", "banwaya": "built", "likha": "wrote", "likhi": "wrote",
    "jeeta": "won", "jeeti": "won", "khoja": "discovered", "mara": "died", "mare": "died",
    "paida": "born", "gaya": "went", "gayi": "went", "kehte": "say", "bolte": "say",
    "milta": "found", "milti": "found", "girta": "falls", "ugta": "rises", "dubta": "sets",
    "janam": "born", "janme": "born", "shuru": "began", "khatam": "ended",
    "haraya": "defeated", "hara": "lost", "jeet": "win", "mili": "got", "mila": "got",
    "bana": "became", "bani": "became", "bante": "become", "chalta": "runs",
    "chalti": "runs", "udta": "flies", "udti": "flies", "ude": "flew", "rehta": "lives",
    "rehti": "lives", "khata": "eats", "khati": "eats", "peeta": "drinks", "peeti": "drinks",
    "nikalta": "comes out", "nikalti": "comes out", "bahti": "flows", "behti": "flows",
    "ghumti": "orbits", "ghumta": "orbits", "chakkar": "orbit", "karta": "does",
    "karti": "does", "sakta": "can", "sakti": "can", "jata": "goes", "jati": "goes",
}  # fmt: skip
# Said to the reader, about nothing: dropped.
_DROPPED = frozenset("bhai yaar bro toh ji na re arre arey dekho suno ne wala wali wale".split())
_WORD = re.compile(r"[A-Za-z]+|[^A-Za-z]+")
_NEGATION = frozenset({"nahi", "nahin", "nhi", "mat"})


def is_hinglish(text: str) -> bool:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
    return len(words & _MARKERS) >= 2


def gloss(text: str) -> str:
    """``text`` with its Hindi words in English (see the module docstring); unchanged
    when it does not read as Hinglish."""
    if not is_hinglish(text):
        return text
    out: list[str] = []
    for piece in _WORD.findall(text):
        lower = piece.lower()
        if not piece[0].isalpha():
            out.append(piece)
        elif lower in _DROPPED:
            continue
        elif lower in _NEGATION:
            # "Mumbai nahi" → "not Mumbai": the negation goes before what it negates.
            previous = next((i for i in range(len(out) - 1, -1, -1) if out[i].strip()), None)
            if previous is not None and out[previous][0].isalpha():
                out.insert(previous, "not ")
            else:
                out.append("not")
        else:
            out.append(_GLOSS.get(lower, piece))
    return re.sub(r"\s+([.,!?;:])", r"\1", re.sub(r"\s+", " ", "".join(out))).strip()
