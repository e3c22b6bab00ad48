using Dclm.Data.Filters;
using static Dclm.Data.Tests.Fixtures;

namespace Dclm.Data.Tests;

public class LineRemovalsTests
{
    private static readonly LineRemovals Removals = new(new LineRemovalSettings());

    [Fact]
    public void RemovesCounterUppercaseNumericAndOneWordLinesWhenFewWordsGo()
    {
        var body = string.Join('\n', Enumerable.Range(0, 20).Select(Sentence));
        var document = Doc(body + "\n12 likes\nMENU\n2024\n");
        Assert.True(Removals.Apply(document).IsKept);
        Assert.Equal(body, document.Text);
    }

    [Theory]
    [InlineData(20, 1, true)]  // 1 of ~441 words removed
    [InlineData(2, 3, false)]  // 3 one-word lines from ~47 words: > 5%
    public void DropsPageWhenMoreThanFivePercentOfWordsRemoved(int sentences, int oneWordLines, bool kept)
    {
        var text = string.Join('\n', Enumerable.Range(0, sentences).Select(Sentence)) + string.Concat(Enumerable.Repeat("\nHome", oneWordLines));
        var outcome = Removals.Apply(Doc(text));
        Assert.Equal(kept, outcome.IsKept);
        if (!kept) Assert.Equal("word_removal_ratio", outcome.DropRule);
    }

    [Fact]
    public void ExactlyFivePercentIsKept()
    {
        // 19 lines of 5 words plus 5 one-word lines... build 100 words with 5 removable: 95 kept / 100 = 5% removed
        var lines = Enumerable.Range(0, 19).Select(i => $"alpha beta gamma delta e{i}").ToList();
        lines.AddRange(Enumerable.Range(0, 5).Select(i => $"single{i}"));
        var document = Doc(string.Join('\n', lines));
        Assert.True(Removals.Apply(document).IsKept);
        var six = Doc(string.Join('\n', lines) + "\nsingle5");
        Assert.False(Removals.Apply(six).IsKept); // 6 of 101 > 5%
    }

    [Fact]
    public void UppercaseThresholdIsHalfTheLine()
    {
        var settings = new LineRemovalSettings { MaximumRemovedWordFraction = 1.0 };
        var half = Doc("ABCD efgh ijk\nnormal line here");   // 4 upper / 13 chars
        Assert.True(new LineRemovals(settings).Apply(half).IsKept);
        Assert.Contains("ABCD", half.Text);
        var shouting = Doc("ABCDEFGH ij\nnormal line here"); // 8 / 11
        new LineRemovals(settings).Apply(shouting);
        Assert.Equal("normal line here", shouting.Text);
    }

    [Fact]
    public void BoilerplateSubstringsAreCutFromShortLines()
    {
        var settings = new LineRemovalSettings { MaximumRemovedWordFraction = 1.0 };
        var document = Doc("You have 3 items in cart now\nSign-in to continue reading this\nA story worth telling. Read more...");
        new LineRemovals(settings).Apply(document);
        Assert.Equal("You have 3 now\nto continue reading this\nA story worth telling.", document.Text);
    }
}
