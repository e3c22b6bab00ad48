namespace Dclm.Inference.Tests;

public class StopStringMatcherTests
{
    [Fact]
    public void StopSplitAcrossChunksIsCaughtAndNeverShown()
    {
        var matcher = new StopStringMatcher(["</end>"]);
        string shown = matcher.Push("Hello </") + matcher.Push("en") + matcher.Push("d> more");
        Assert.True(matcher.Stopped);
        Assert.Equal("Hello ", shown);
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void PossiblePrefixIsHeldBackUntilItIsNot()
    {
        var matcher = new StopStringMatcher(["\n\n"]);
        Assert.Equal("line", matcher.Push("line\n"));
        Assert.Equal("\nnext", matcher.Push("next"));
        Assert.False(matcher.Stopped);
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void EarliestOfSeveralStopsWins()
    {
        var matcher = new StopStringMatcher(["world", "lo"]);
        Assert.Equal("hel", matcher.Push("hello world"));
    }

    [Fact]
    public void WithoutStopsEverythingPassesThrough()
    {
        var matcher = new StopStringMatcher([]);
        Assert.Equal("abc", matcher.Push("abc"));
        Assert.Equal("", matcher.Flush());
    }
}
