using Dclm.Data.Dedup;
using Dclm.Data.Documents;
using Dclm.Data.Pipeline;
using Dclm.Data.Text;
using Dclm.Data.Urls;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

/// <summary>
/// Pages built so that each difference between DCLM's semantics and our previous ones decides the outcome. The
/// expected decision is DCLM's, derived in each comment from DCLM's code (the mapper tests pin the same rules); the
/// comment also says what the previous implementation did.
/// </summary>
public sealed class DclmDifferenceTests
{
    /// <summary>DCLM-Baseline's stages from URL filtering to the line corrections, without language ID (the pages are synthetic).</summary>
    private static (bool Kept, string? Rule, string Text) Curate(string text, string url = "https://example.org/page")
    {
        var config = new PipelineConfig { Language = { Enabled = false } };
        var document = new Document("t", url, "test", text);
        foreach (var stage in LocalStages.Build(config))
        {
            var statistics = stage.NewStatistics();
            if (!stage.Run(document, statistics)) return (false, statistics.RemovedBy.Keys.Single(), document.Text);
        }
        return (true, null, document.Text);
    }

    /// <summary>A real State of the Union excerpt that passes every DCLM-Baseline heuristic on its own.</summary>
    private static readonly Lazy<string> RealProse = new(() => Read("prose.jsonl.zst").First(d => d.Source == "sotu").Text);

    private static string Prose() => RealProse.Value;

    [Fact]
    public void TheBasePageIsKept() => Assert.True(Curate(Prose()).Kept);

    [Fact]
    public void UrlsInTheTextAreRemovedWhenThePageStartsWithATopLevelDomain()
    {
        // url_removal_modifier: "The" starts with the TLD "th", so url_regex.sub runs; " https://..." goes with its space.
        var (kept, _, text) = Curate("The record follows. " + Prose() + " The minutes are at https://www.example.com/minutes/2024 for readers.");
        Assert.True(kept);
        Assert.EndsWith("The minutes are at for readers.", text);
    }

    [Fact]
    public void UrlsStayWhenThePageDoesNotStartWithATopLevelDomain()
    {
        // tlds_regex.match() anchors at the start: "Xylophones..." starts with no TLD ("xy" is none), so URLs stay; IPs still go.
        var page = "Xylophones were played. " + Prose() + " See https://www.example.com/minutes and 192.168.1.1 too.";
        var (kept, _, text) = Curate(page);
        Assert.True(kept);
        Assert.EndsWith("See https://www.example.com/minutes and too.", text);
    }

    [Theory]
    [InlineData("https://cdn.example.com/free-xxx-videos/1", "banned_url_word_hard")]     // "xxx" between word boundaries
    [InlineData("https://example.com/ba-ll.gag-pics", "banned_url_word_strict")]         // "ballgag" once '-' and '.' are dropped
    [InlineData("https://example.com/xxxvideos", null)]                                  // hard list needs boundaries: kept
    public void PageUrlsAreCheckedAgainstRefinedWebsLists(string url, string? rule)
    {
        var (kept, dropRule, _) = Curate(Prose(), url);
        Assert.Equal(rule is null, kept);
        Assert.Equal(rule, dropRule);
    }

    [Fact]
    public void ANoBreakSpaceDoesNotSplitFastTextWords()
    {
        // page_length_filter counts fastText tokens: 40 words + 8 NBSP-joined pairs = 48 < 50, dropped.
        // (Previously: char.IsWhiteSpace split them, 56 words, kept.) Four more words make 52: kept.
        var words = string.Join(' ', Enumerable.Range(0, 40).Select(i => i % 5 == 0 ? "the" : $"word{i}").Concat(Enumerable.Range(0, 8).Select(i => $"left{i}\u00A0right{i}")));
        Assert.Equal(48, FastTextWords.Count(words));
        var (kept, rule, _) = Curate(words);
        Assert.False(kept);
        Assert.Equal("page_length", rule);
        Assert.True(Curate(words + " and that is all.").Kept);
    }

    [Fact]
    public void AnAstralLetterStartsAWord()
    {
        // 45 plain words + 6 starting with U+1D400 MATHEMATICAL BOLD CAPITAL A: Python's isalnum says yes, 51 >= 50, kept.
        // (Previously: char.IsLetterOrDigit on the high surrogate said no, 45 words, dropped.)
        var words = Enumerable.Range(0, 45).Select(i => i % 5 == 0 ? "the" : $"word{i}").Concat(Enumerable.Range(0, 6).Select(i => $"𝐀lpha{i}"));
        Assert.Equal(51, FastTextWords.Count(string.Join(' ', words)));
        Assert.True(Curate(string.Join(' ', words)).Kept);
    }

    [Fact]
    public void AnEmojiIsOneCharacter()
    {
        // word_length_filter: "o😀" is 2 code points, mean 2 < 3, dropped. (Previously: 3 UTF-16 units, mean 3, kept.)
        var page = string.Join(' ', Enumerable.Range(0, 60).Select(i => i % 3 == 0 ? "to" : "o😀"));
        var (kept, rule, _) = Curate(page);
        Assert.False(kept);
        Assert.Equal("word_length", rule);
    }

    [Fact]
    public void IdeographsAreWordsOfTheirOwn()
    {
        // Repetition words are uniseg's: 你, 好, c_i, 你, 好, ... so the 2-gram 你好 occurs 600 times: 1,200 of about
        // 5,000 word characters > 0.20, dropped by top_2gram. (Previously: "你好c_i" was one word each, all distinct, kept.)
        var cjk = string.Join(' ', Enumerable.Range(0, 600).Select(i => "你好" + (char)(0x4E00 + 200 + i)));
        var (kept, rule, _) = Curate(Prose() + " " + cjk);
        Assert.False(kept);
        Assert.Equal("top_2gram", rule);
    }

    [Fact]
    public void AnUnderscoreStartsNoRepetitionWord()
    {
        // uniseg keeps "_x" whole (ExtendNumLet × ALetter) and split_words drops it ('_' is not alphanumeric), so 50
        // repeats of "_x" are invisible to the n-gram rules: kept. (Previously: "_x" was a word, top_2gram dropped it.)
        var page = Prose() + " " + string.Join(' ', Enumerable.Repeat("_x", 50));
        Assert.True(Curate(page).Kept);
    }

    [Fact]
    public void ASoftHyphenJoinsAWord()
    {
        // uniseg: "ab\u00ADcd" is one word (the soft hyphen is Format, WB4), so "ab­cd w_i" pairs are all distinct: kept.
        // (Previously: "ab" and "cd" were words and the 2-gram (ab, cd) repeated 40 times: top_2gram dropped it.)
        var page = Prose() + " " + string.Join(' ', Enumerable.Range(0, 40).Select(i => $"ab\u00ADcd wordy{(char)('a' + i % 26)}{(char)('a' + i / 26)}"));
        Assert.True(Curate(page).Kept);
    }

    [Fact]
    public void BffLeavesTheTextUntrimmed()
    {
        // process_line_oldboth removes a duplicate first paragraph's window but keeps the next paragraph's leading
        // newline, and trims nothing. (Previously: the kept paragraphs were re-joined and trimmed.)
        var bff = new BffDeduplicator(BloomFilter.Create(10_000, 0.001, 1 << 20), 13, 13, 0.8);
        string repeated = string.Join(' ', Enumerable.Range(0, 20).Select(i => $"word{i}"));
        bff.Process(repeated);
        var result = bff.Process(repeated + "\n" + string.Join(' ', Enumerable.Range(0, 40).Select(i => $"fresh{i}")) + "  ");
        Assert.Equal(1, result.ParagraphsRemoved);
        Assert.StartsWith("\nfresh0 ", result.Text);
        Assert.EndsWith("fresh39  ", result.Text);
    }

    [Fact]
    public void BffTokensAreUnicodeSegments()
    {
        // split_word_bounds: "don't" and "3.14" are single tokens, every punctuation mark is one, spaces are none.
        Assert.Equal(6, BffTokenizer.TokenHashes("don't panic, 3.14 ok!").Count);
        Assert.Equal(BffTokenizer.TokenHashes("a b")[0], BffTokenizer.TokenHashes("a\u3000b")[0]);
    }

    [Fact]
    public void PythonWhitespaceIncludesTheInformationSeparators()
    {
        // str.split() splits at U+001F (a Python space, not a .NET one): the stop-word rule sees "the" twice.
        var page = Doc("alpha\u001Fthe beta\u001Fthe gamma");
        Assert.True(new Filters.StopWordFilter(2).Apply(page).IsKept);
    }

    [Fact]
    public void TheUrlListsAreDclms()
    {
        Assert.Equal(117, BuiltinLists.Read("builtin:strict").Count);
        Assert.Equal(176, BuiltinLists.Read("builtin:hard").Count);
        Assert.Equal(83, BuiltinLists.Read("builtin:soft").Count);
        Assert.Equal(1591, BuiltinLists.Read("builtin:iana_tlds").Count);
    }
}
