using System.Text.Json;
using Dclm.Formats;
using Dclm.Tokenizers;

namespace Dclm.Fuzz.Targets;

/// <summary>
/// tokenizer.json files: two small but complete seeds (byte-level BPE with a Split regex, added tokens, a
/// template post-processor and a decoder; SentencePiece-style BPE with '▁', byte fallback and a Prepend/Replace
/// normalizer) mutated as JSON, with the pipeline's own words and hostile regex patterns among the values.
/// Each case is loaded, then used: encoded with and without special tokens, decoded, and streamed.
/// </summary>
internal sealed class TokenizerJsonTarget : FuzzTarget
{
    private static readonly string[] Words =
    [
        "BPE", "WordPiece", "Unigram", "ByteLevel", "Split", "Sequence", "Metaspace", "NFC", "NFKC", "Lowercase", "Prepend", "Replace",
        "Isolated", "Removed", "MergedWithPrevious", "TemplateProcessing", "BertProcessing", "ByteFallback", "Fuse", "Strip", "\u2581",
        "(a+)+$", "((a*)*)*c", "\\s+(?!\\S)|\\s+", " ?\\p{L}+| ?\\p{N}+", "(?i:'s|'t)", "[", "(?<=a)b", "\\1", "a{1,100000}", "(?x) a # b",
        "<0x41>", "<s>", "</s>", "<unk>", "Hell", "l l", "H e", "first", "always", "never",
    ];

    private static readonly string[] Texts = ["Hello wörld", "  Hell<s>o\n\n123 😀 \ud800", "", "<s></s><unk>", new string('a', 3000) + "b", "\u2581 x\t\u00a0y"];

    private readonly ScratchFolder folder = new("tokenizer-json");
    private readonly string[] seeds = [ByteLevelSeed(), SentencePieceSeed()];

    public override string Name => "tokenizer-json";

    public override string ExpectedErrors => "ModelFileException (PreTokenizerTimeoutException among them) naming the file";

    public override byte[] NextCase(Random random) => JsonMutator.Mutate(seeds[random.Next(seeds.Length)], random, Words);

    public override bool Run(byte[] input, CancellationToken cancellation)
    {
        string path = folder.File("tokenizer.json");
        File.WriteAllBytes(path, input);
        try
        {
            var tokenizer = Tokenizer.Load(path);
            foreach (string text in Texts)
            {
                var ids = tokenizer.Encode(text, addSpecialTokens: true, parseSpecialTokens: text.Length % 2 == 0);
                _ = tokenizer.Decode(ids, skipSpecialTokens: text.Length % 3 == 0);
                var stream = tokenizer.CreateStreamingDecoder();
                foreach (int id in ids) _ = stream.Append(id);
                _ = stream.Flush();
            }
            return true;
        }
        catch (ModelFileException error)
        {
            CheckMessage(error, path);
            return false;
        }
    }

    public override void Dispose() => folder.Dispose();

    private static string ByteLevelSeed()
    {
        var vocabulary = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocabulary[Gpt2Bytes.CharacterOf((byte)b).ToString()] = b;
        string[] merged = ["He", "ll", "Hell", "Hello", "Ġw", "Ġwo"];
        foreach (string piece in merged) vocabulary[piece] = vocabulary.Count;
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["version"] = "1.0",
            ["added_tokens"] = new object[]
            {
                new { id = 262, content = "<s>", single_word = false, lstrip = false, rstrip = false, normalized = false, special = true },
                new { id = 263, content = "</s>", single_word = false, lstrip = true, rstrip = false, normalized = false, special = true },
            },
            ["normalizer"] = new { type = "NFC" },
            ["pre_tokenizer"] = new
            {
                type = "Sequence",
                pretokenizers = new object[]
                {
                    new { type = "Split", pattern = new { Regex = "'s|'t| ?\\p{L}+| ?\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+" }, behavior = "Isolated", invert = false },
                    new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true, use_regex = false },
                },
            },
            ["post_processor"] = new
            {
                type = "TemplateProcessing",
                single = new object[] { new { SpecialToken = new { id = "<s>", type_id = 0 } }, new { Sequence = new { id = "A", type_id = 0 } } },
            },
            ["decoder"] = new { type = "ByteLevel", add_prefix_space = true, trim_offsets = true, use_regex = true },
            ["model"] = new Dictionary<string, object?>
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocabulary, ["merges"] = new object[] { "H e", "l l", new[] { "He", "ll" }, "Hell o", "Ġ w", "Ġw o" },
            },
        });
    }

    private static string SentencePieceSeed()
    {
        var vocabulary = new Dictionary<string, int> { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (int b = 0; b < 256; b++) vocabulary[$"<0x{b:X2}>"] = vocabulary.Count;
        foreach (string piece in new[] { "\u2581", "H", "e", "l", "o", "w", "\u2581H", "ll", "\u2581He", "\u2581Hell", "\u2581Hello" }) vocabulary[piece] = vocabulary.Count;
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["added_tokens"] = new object[]
            {
                new { id = 0, content = "<unk>", special = true },
                new { id = 1, content = "<s>", special = true },
                new { id = 2, content = "</s>", special = true },
            },
            ["normalizer"] = new
            {
                type = "Sequence",
                normalizers = new object[] { new { type = "Prepend", prepend = "\u2581" }, new { type = "Replace", pattern = new { String = " " }, content = "\u2581" } },
            },
            ["pre_tokenizer"] = null,
            ["decoder"] = new
            {
                type = "Sequence",
                decoders = new object[]
                {
                    new { type = "Replace", pattern = new { String = "\u2581" }, content = " " }, new { type = "ByteFallback" }, new { type = "Fuse" },
                    new { type = "Strip", content = " ", start = 1, stop = 0 },
                },
            },
            ["model"] = new Dictionary<string, object?>
            {
                ["type"] = "BPE", ["unk_token"] = "<unk>", ["byte_fallback"] = true, ["fuse_unk"] = true,
                ["vocab"] = vocabulary, ["merges"] = new[] { "\u2581 H", "l l", "\u2581H e", "\u2581He ll", "\u2581Hell o" },
            },
        });
    }
}
