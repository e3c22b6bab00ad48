using System.Text.Json;
using System.Text.RegularExpressions;
using Dclm.Formats;

namespace Dclm.Tokenizers.Tests;

/// <summary>
/// tokenizer.json Split patterns that are not one of the hand-written ones: the engine is chosen at load
/// time, pathological patterns run in linear time or are refused, a slow text ends in a named error, and
/// the pieces equal those of .NET's backtracking engine (the semantics Hugging Face's patterns are written
/// for) wherever that engine finishes.
/// </summary>
public class RegexSplitTests
{
    private const string Gpt2WithoutLookahead = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+";
    private const string O200kWithoutLookahead =
        @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+";

    /// <summary>The pieces .NET's backtracking engine gives: every non-empty match and every gap.</summary>
    private static List<TextPiece> BacktrackingPieces(string pattern, string text)
    {
        var pieces = new List<TextPiece>();
        int previousEnd = 0;
        foreach (Match match in new Regex(pattern, RegexOptions.CultureInvariant).Matches(text))
        {
            if (match.Length == 0) continue;
            if (match.Index > previousEnd) pieces.Add(new TextPiece(previousEnd, match.Index - previousEnd));
            pieces.Add(new TextPiece(match.Index, match.Length));
            previousEnd = match.Index + match.Length;
        }
        if (previousEnd < text.Length) pieces.Add(new TextPiece(previousEnd, text.Length - previousEnd));
        return pieces;
    }

    private static List<TextPiece> Split(IPreTokenizer splitter, string text)
    {
        var pieces = new List<TextPiece>();
        splitter.Split(text, pieces);
        return pieces;
    }

    private static string TokenizerJson(string pattern)
    {
        var vocabulary = new Dictionary<string, int>();
        for (int value = 0; value < 256; value++) vocabulary[ByteLevelAlphabet.CharacterOf((byte)value).ToString()] = value;
        vocabulary["aa"] = 256;
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = new Dictionary<string, object?> { ["type"] = "BPE", ["vocab"] = vocabulary, ["merges"] = new[] { "a a" } },
            ["pre_tokenizer"] = new
            {
                type = "Sequence",
                pretokenizers = new object[]
                {
                    new { type = "Split", pattern = new { Regex = pattern }, behavior = "Isolated", invert = false },
                    new { type = "ByteLevel", add_prefix_space = false, use_regex = false },
                },
            },
        });
    }

    [Theory]
    [InlineData("(a+)+$")]
    [InlineData("((a*)*)*c")]
    public void TheIssuesPathologicalPatternsRunInLinearTime(string pattern)
    {
        // Issue 23: these took seconds per call at 26 "a"s and ended `dclm tokenize` with an unhandled
        // RegexMatchTimeoutException at 40. Now they load onto the non-backtracking engine.
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, TokenizerJson(pattern));
        var tokenizer = Tokenizer.Load(path);
        var splitter = RegexPreTokenizer.Create(pattern, path);
        Assert.True(splitter.IsLinear);

        // Backtracking, the oracle, is exponential here (((a*)*)*c takes seconds at 11 "a"s), so only short runs.
        foreach (int count in new[] { 1, 2, 5, 8 })
        {
            foreach (string text in new[] { new string('a', count), new string('a', count) + "b", "x" + new string('a', count) + "c!" })
            {
                Assert.Equal(BacktrackingPieces(pattern, text), Split(splitter, text));
            }
        }
        // Sizes backtracking never finishes: no match exists, so the text is one piece.
        string forty = new string('a', 40) + "b";
        Assert.Equal([new TextPiece(0, forty.Length)], Split(splitter, forty));
        string long_ = new string('a', 100_000) + "!";
        Assert.Equal([new TextPiece(0, long_.Length)], Split(splitter, long_));
        Assert.Equal(Enumerable.Repeat(256, 20).Append(98), tokenizer.Encode(forty));
    }

    [Theory]
    [InlineData(" ?a+")]
    [InlineData(" ?, ?")]
    [InlineData("a*?|b")]
    [InlineData("(a|ab)(c|bcd)?")]
    [InlineData(@"\s+$|[a ]+")]
    [InlineData(" ?\\p{L}{2}|\\d{1,3}")]
    [InlineData(Gpt2WithoutLookahead)]
    [InlineData(O200kWithoutLookahead)]
    public void LinearPiecesEqualBacktrackingPieces(string pattern)
    {
        // .NET's non-backtracking search drops matches of patterns that start with an optional element
        // (" ?a+" on "a aa" misses "aa", dotnet/runtime#130176); matching anchored at each position must not.
        var splitter = RegexPreTokenizer.Create(pattern, "tokenizer.json");
        Assert.True(splitter.IsLinear);
        const string alphabet = " aA1,.'\n\tsé漢\u00a0-bcd";
        var random = new Random(23);
        for (int trial = 0; trial < 3000; trial++)
        {
            var characters = new char[random.Next(1, 16)];
            for (int index = 0; index < characters.Length; index++) characters[index] = alphabet[random.Next(alphabet.Length)];
            string text = new(characters);
            Assert.Equal(BacktrackingPieces(pattern, text), Split(splitter, text));
        }
    }

    public static TheoryData<PreTokenizerKind, string> RealPatterns => new()
    {
        { PreTokenizerKind.Gpt2, TokenizerJsonPipeline.Gpt2Pattern },
        { PreTokenizerKind.Llama3, TokenizerJsonPipeline.Llama3Pattern },
        { PreTokenizerKind.Qwen2, TokenizerJsonPipeline.Qwen2Pattern },
    };

    [Theory]
    [MemberData(nameof(RealPatterns))]
    public void RealPatternsRunOnTheGuardedBacktrackingEngineAndSplitLikeTheHandWrittenMatchers(PreTokenizerKind kind, string pattern)
    {
        // The published patterns need a lookahead (\s+(?!\S)), so they take the backtracking path, and its
        // checks must accept them. Outside the Basic Multilingual Plane .NET classifies UTF-16 halves, so
        // only BMP texts are compared.
        var splitter = RegexPreTokenizer.Create(pattern, "tokenizer.json");
        Assert.False(splitter.IsLinear);
        var handWritten = new PatternPreTokenizer(kind);
        var texts = new[] { "gpt-2.tests.inp", "extra.tests.inp", "random.tests.inp" }
            .SelectMany(file => File.ReadAllText(Fixtures.Path(file)).Split("\n__ggml_vocab_test__\n"))
            .Where(text => !text.Any(char.IsSurrogate))
            .ToList();
        Assert.True(texts.Count > 150, $"{texts.Count} texts");
        foreach (string text in texts)
        {
            Assert.Equal(Split(handWritten, text), Split(splitter, text));
        }
    }

    [Theory]
    [InlineData("(a+)+(?!b)", "'(a+)+' repeats a group that holds another repetition")]
    [InlineData("(?=x)(a|aa)*", "'(a|aa)*' repeats a group that holds a choice")]
    [InlineData("(?:(?!b)a)+", "repeats a group that holds a lookaround")]
    [InlineData("(a)\\1", "the backreference '\\1'")]
    [InlineData("(?<x>a)\\k<x>", "the backreference '\\k<x>'")]
    [InlineData("(?(a)b|c)(?!x)", "the conditional")]
    [InlineData("a*a*a*(?!b)", "one match can pass through 3 long repetitions in a row")]
    [InlineData("(?x) a+ (?!b)", "the x option")]
    public void PatternsTheBacktrackingEngineCannotRunSafelyAreRefusedNamingFileAndPattern(string pattern, string reason)
    {
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, TokenizerJson(pattern));
        var error = Assert.Throws<ModelFileException>(() => Tokenizer.Load(path));
        Assert.StartsWith($"{path}: the pre-tokenizer pattern '{pattern}' needs the backtracking regex engine, and cannot be run safely on it: ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void DeepNestingAndHugePatternsAreRefused()
    {
        string deep = new string('(', 200) + "a" + new string(')', 200) + "(?!b)";
        var nested = Assert.Throws<VocabularyProblemException>(() => RegexPreTokenizer.Create(deep, "t.json"));
        Assert.Contains("nests groups more than 64 deep", nested.Message);
        var huge = Assert.Throws<VocabularyProblemException>(() => RegexPreTokenizer.Create(new string('a', 20_000), "t.json"));
        Assert.Contains("is 20000 characters long, more than 16384", huge.Message);
    }

    [Fact]
    public void AGuardedPatternThatRunsTooLongEndsInANamedErrorNotATimeoutException()
    {
        // Two long repetitions pass the load-time check, but on 100,000 "a"s with no match every start
        // position costs O(n²) steps (the lookahead first keeps .NET from skipping to a required character):
        // the engine's time limit stops it and the error names file and pattern.
        const string pattern = "(?=a)a*a*(?!a)\\d";
        using var directory = new TempDirectory();
        string path = directory.File("tokenizer.json");
        File.WriteAllText(path, TokenizerJson(pattern));
        var tokenizer = Tokenizer.Load(path);
        var error = Assert.Throws<PreTokenizerTimeoutException>(() => tokenizer.Encode(new string('a', 100_000)));
        Assert.StartsWith($"{path}: the pre-tokenizer pattern '{pattern}' took longer than its time limit", error.Message);
        Assert.Contains("to split a text of 100000 characters", error.Message);
        Assert.IsAssignableFrom<ModelFileException>(error);
        // Short texts still tokenize: "aaa1" is one match, merged to "aa" "a" "1".
        Assert.Equal([256, 97, 49], tokenizer.Encode("aaa1"));
    }
}
