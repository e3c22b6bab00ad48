using Dclm.Data.Filters;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

public class RepetitionFilterTests
{
    private static readonly RepetitionFilter Filter = new(new RepetitionThresholds());

    private static string UniqueLine(int i) => string.Join(' ', Enumerable.Range(i * 8, 8).Select(Word));

    // Distinct six-letter pseudo-words (base-26 digits of an odd multiple), so unrelated lines share no n-grams.
    private static string Word(int i)
    {
        ulong value = (ulong)(i + 1) * 2654435761UL % 308915776UL; // 26^6
        var letters = new char[6];
        for (int k = 0; k < 6; k++) { letters[k] = (char)('a' + (int)(value % 26)); value /= 26; }
        return new string(letters);
    }

    [Theory]
    [InlineData(3, true)]  // 3 repeated lines of 10 = 0.3
    [InlineData(4, false)] // 4 of 10 = 0.4 > 0.3
    public void DuplicateLineFractionByCount(int repeated, bool kept)
    {
        var lines = Enumerable.Range(0, 10 - repeated).Select(UniqueLine).ToList();
        // short repeated lines keep the character fraction (0.2) from deciding
        lines.AddRange(Enumerable.Repeat("ok", repeated));
        var outcome = Filter.Apply(Doc(string.Join('\n', lines)));
        Assert.Equal(kept, outcome.IsKept);
        if (!kept) Assert.Equal("duplicate_lines", outcome.DropRule);
    }

    [Fact]
    public void DuplicateLineCharacterFraction()
    {
        var fraction = new RepetitionAnalysis("aaaa\naaaa\nbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb").RepeatedSegmentFraction(paragraphs: false, byCharacters: true);
        Assert.Equal(8.0 / 40.0, fraction, 9);
        var lines = Enumerable.Range(0, 9).Select(UniqueLine).ToList();
        var longLine = string.Join(' ', Enumerable.Range(100, 30).Select(Word));
        lines.Add(longLine);
        lines.Add(longLine); // 2 of 11 lines (< 0.3) but a large character share
        var outcome = Filter.Apply(Doc(string.Join('\n', lines)));
        Assert.Equal("duplicate_line_chars", outcome.DropRule);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(11, true)]  // 110 of 578 characters = 0.190
    [InlineData(12, false)] // 120 of 576 characters = 0.208 > 0.20
    public void TopBigramFractionBothSides(int occurrences, bool kept)
    {
        var words = Enumerable.Range(0, 100).Select(i => Word(i + 1000)).ToList();
        for (int j = 0; j < occurrences; j++) { words[4 * j] = "alpha"; words[4 * j + 1] = "betas"; }
        long total = words.Sum(w => (long)w.Length);
        double fraction = new RepetitionAnalysis(string.Join(' ', words)).RepeatedNgramFraction(2, NgramMeasure.MostCommon);
        Assert.Equal(occurrences <= 1 ? 0.0 : 10.0 * occurrences / total, fraction, 9);
        var outcome = Filter.Apply(Doc(string.Join(' ', words)));
        Assert.Equal(kept, outcome.IsKept);
        if (!kept) Assert.Equal("top_2gram", outcome.DropRule);
    }

    [Fact]
    public void DuplicateTenGramsCountEachWordOnce()
    {
        var words = Enumerable.Range(0, 50).Select(i => Word(i + 500)).ToList();
        var withRepeat = words.Concat(words.Take(10)).ToList();
        long total = withRepeat.Sum(w => (long)w.Length);
        double fraction = new RepetitionAnalysis(string.Join(' ', withRepeat)).RepeatedNgramFraction(10, NgramMeasure.All);
        Assert.Equal(2 * words.Take(10).Sum(w => w.Length) / (double)total, fraction, 9);
    }

    [Fact]
    public void RealProseSurvivesAndLoopedTextIsDropped()
    {
        var prose = Read("prose.jsonl.zst").First(d => d.Source == "moby-dick");
        Assert.True(Filter.Apply(Doc(prose.Text)).IsKept);
        var looped = string.Join(' ', Enumerable.Repeat("buy cheap watches online today best price", 40));
        Assert.False(Filter.Apply(Doc(looped)).IsKept);
    }
}
