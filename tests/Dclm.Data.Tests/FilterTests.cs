using Dclm.Data.Documents;
using Dclm.Data.Filters;
using Dclm.Data.Modifiers;
using Dclm.Data.Text;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

public class FilterTests
{
    private static string Words(int count, string word = "word") => string.Join(' ', Enumerable.Repeat(word, count));

    [Theory]
    [InlineData(49, false)]
    [InlineData(50, true)]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void PageLengthKeepsPagesWithinWordBounds(int words, bool kept)
    {
        var filter = new PageLengthFilter(PageLengthUnit.Word, 50, 100, WordModel.FastText, ignorePunctuation: true);
        Assert.Equal(kept, filter.Apply(Doc(Words(words))).IsKept);
    }

    [Fact]
    public void PageLengthIgnoresPunctuationTokens()
    {
        var filter = new PageLengthFilter(PageLengthUnit.Word, 50, 100_000, WordModel.FastText, ignorePunctuation: true);
        Assert.False(filter.Apply(Doc(Words(49) + " - -- !! ...")).IsKept);
    }

    [Theory]
    [InlineData("ab", false)]          // mean 2 < 3
    [InlineData("abc", true)]          // mean 3
    [InlineData("abcdefghij", true)]   // mean 10
    [InlineData("abcdefghijk", false)] // mean 11 > 10
    public void WordLengthKeepsMeanWithinThreeToTen(string word, bool kept)
    {
        var filter = new WordLengthFilter(3, 10);
        Assert.Equal(kept, filter.Apply(Doc(Words(20, word))).IsKept);
    }

    [Theory]
    [InlineData(10, true)]  // 10 symbols / 100 words = 0.1
    [InlineData(11, false)] // 0.11
    public void SymbolRatioCountsHashesAndEllipses(int symbols, bool kept)
    {
        var text = Words(100 - symbols) + " " + string.Join(' ', Enumerable.Range(0, symbols).Select(i => i % 2 == 0 ? "#tag" : "wait..."));
        Assert.Equal(kept, new SymbolRatioFilter(0.1).Apply(Doc(text)).IsKept);
    }

    [Theory]
    [InlineData(9, true)]   // 9 of 10 lines = 0.9
    [InlineData(10, false)] // 1.0
    public void BulletLinesAllowAtMostNinetyPercent(int bulleted, bool kept)
    {
        var lines = Enumerable.Range(0, 10).Select(i => i < bulleted ? $"• item {i}" : $"plain line {i}");
        Assert.Equal(kept, new BulletLinesFilter(0.9).Apply(Doc(string.Join('\n', lines))).IsKept);
    }

    [Theory]
    [InlineData(3, true)]  // 3 of 10 = 0.3
    [InlineData(4, false)] // 0.4
    public void EllipsisLinesAllowAtMostThirtyPercent(int ending, bool kept)
    {
        var lines = Enumerable.Range(0, 10).Select(i => i < ending ? $"and then it went on\u2026" : $"a finished sentence {i}.");
        Assert.Equal(kept, new EllipsisLinesFilter(0.3).Apply(Doc(string.Join('\n', lines))).IsKept);
    }

    [Theory]
    [InlineData(20, true)]  // 20 of 100 words without letters = 0.2
    [InlineData(21, false)]
    public void AlphabeticWordsNeedEightyPercentWithLetters(int numeric, bool kept)
    {
        var text = Words(100 - numeric) + " " + string.Join(' ', Enumerable.Range(0, numeric).Select(i => (1000 + i).ToString()));
        Assert.Equal(kept, new AlphabeticWordFilter(0.2).Apply(Doc(text)).IsKept);
    }

    [Theory]
    [InlineData("cats like fish and dogs", false)]
    [InlineData("cats like fish and the dogs", true)]
    [InlineData("THE cat AND", true)]
    public void StopWordsNeedTwoOccurrences(string text, bool kept)
    {
        Assert.Equal(kept, new StopWordFilter(2).Apply(Doc(text)).IsKept);
    }

    [Fact]
    public void NewlineNormalizerCollapsesLongRuns()
    {
        var document = Doc("a\n\n\n\n\nb\n\nc");
        new NewlineNormalizer(2).Apply(document);
        Assert.Equal("a\n\nb\n\nc", document.Text);
    }
}
