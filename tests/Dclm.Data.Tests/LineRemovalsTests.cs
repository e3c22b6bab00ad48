using Dclm.Data.Documents;
using Dclm.Data.Filters;
using Dclm.Data.Modifiers;
using Dclm.Data.Pipeline;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

/// <summary>RefinedWeb's line-wise corrections chained as DCLM-Baseline runs them, ending with the 5%-removal rule.</summary>
public class LineRemovalsTests
{
    private static DocumentStage Corrections(double maximumRemoved = 0.05) => new("corrections",
    [
        new WordCounter(), new UppercaseLineModifier(0.5), new NumericLineModifier(0.999999), new CounterLineModifier(), new LineLengthModifier(2),
        .. SubstringLineRule.DclmBaseline.Select(rule => new SubstringLineModifier(rule)), new WordRemovalRatioFilter(maximumRemoved),
    ]);

    private static (bool Kept, string? Rule) Run(Document document, double maximumRemoved = 0.05)
    {
        var statistics = new StageStatistics();
        bool kept = Corrections(maximumRemoved).Run(document, statistics);
        return (kept, statistics.RemovedBy.Keys.SingleOrDefault());
    }

    [Fact]
    public void RemovesCounterUppercaseNumericAndOneWordLinesWhenFewWordsGo()
    {
        var body = string.Join('\n', Enumerable.Range(0, 20).Select(Sentence));
        var document = Doc(body + "\n12 likes\nMENU\n2024\n");
        Assert.True(Run(document).Kept);
        Assert.Equal(body, document.Text);
    }

    [Theory]
    [InlineData(20, 1, true)]  // 1 of ~441 words removed
    [InlineData(2, 3, false)]  // 3 one-word lines from ~47 words: > 5%
    public void DropsPageWhenMoreThanFivePercentOfWordsRemoved(int sentences, int oneWordLines, bool kept)
    {
        var text = string.Join('\n', Enumerable.Range(0, sentences).Select(Sentence)) + string.Concat(Enumerable.Repeat("\nHome", oneWordLines));
        var (wasKept, rule) = Run(Doc(text));
        Assert.Equal(kept, wasKept);
        if (!kept) Assert.Equal("word_removal_ratio", rule);
    }

    [Fact]
    public void ExactlyFivePercentIsKept()
    {
        // 19 lines of 5 words and 5 one-word lines: 100 words, 5 removed
        var lines = Enumerable.Range(0, 19).Select(i => $"alpha beta gamma delta e{i}").ToList();
        lines.AddRange(Enumerable.Range(0, 5).Select(i => $"single{i}"));
        Assert.True(Run(Doc(string.Join('\n', lines))).Kept);
        Assert.False(Run(Doc(string.Join('\n', lines) + "\nsingle5")).Kept); // 6 of 101 > 5%
    }

    [Fact]
    public void UppercaseThresholdIsHalfTheLine()
    {
        var half = Doc("ABCD efgh ijk\nnormal line here");   // 4 upper / 13 chars
        Assert.True(Run(half, 1.0).Kept);
        Assert.Contains("ABCD", half.Text);
        var shouting = Doc("ABCDEFGH ij\nnormal line here"); // 8 / 11
        Run(shouting, 1.0);
        Assert.Equal("normal line here", shouting.Text);
    }

    [Fact]
    public void BoilerplateSubstringsAreCutFromShortLines()
    {
        var document = Doc("You have 3 items in cart now\nSign-in to continue reading this\nA story worth telling. Read more...");
        Run(document, 1.0);
        Assert.Equal("You have 3 now\nto continue reading this\nA story worth telling.", document.Text);
    }

    [Fact]
    public void UppercaseAndDigitsArePythons()
    {
        // Ⅻ (Roman numeral) is uppercase to Python and not Lu; ² is a digit to Python and not Nd.
        var roman = Doc("ⅫⅫⅫⅫ ab\nkeep this line");
        Assert.True(new UppercaseLineModifier(0.5).Apply(roman).IsKept);
        Assert.Equal("keep this line", roman.Text);
        var superscripts = Doc("²³¹\nkeep this line");
        Assert.True(new NumericLineModifier(0.999999).Apply(superscripts).IsKept);
        Assert.Equal("keep this line", superscripts.Text);
    }
}
