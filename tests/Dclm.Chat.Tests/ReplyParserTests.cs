using Dclm.Chat.Replies;
using Dclm.Chat.Tools;

namespace Dclm.Chat.Tests;

/// <summary>Thinking split from answers, and calls taken out of answers, whole or streamed in any pieces.</summary>
public sealed class ReplyParserTests
{
    public static TheoryData<int> Sizes() => [1, 2, 3, 4, 7, 13, 1000];

    private static (string Reasoning, string Content) Split(bool startsInside, string reply, int size)
    {
        var splitter = new ReasoningSplitter(startsInside);
        string reasoning = "", content = "";
        for (int i = 0; i < reply.Length; i += size)
        {
            var (r, c) = splitter.Push(reply.Substring(i, Math.Min(size, reply.Length - i)));
            (reasoning, content) = (reasoning + r, content + c);
        }
        var (lastR, lastC) = splitter.Finish();
        return (reasoning + lastR, content + lastC);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ThinkingOpenedByThePromptEndsAtTheClosingTag(int size) =>
        Assert.Equal(("Okay, the user asks.\nParis.\n", "Paris is the capital."), Split(true, "Okay, the user asks.\nParis.\n</think>\n\nParis is the capital.", size));

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AReplyMayOpenItsOwnThinking(int size)
    {
        Assert.Equal(("\nHmm.\n", "Answer <think> stays"), Split(false, "  <think>\nHmm.\n</think>\n\nAnswer <think> stays", size));
        Assert.Equal(("", "Plain answer, no <think>"), Split(false, "Plain answer, no <think>", size));
        Assert.Equal(("", "  <thi"), Split(false, "  <thi", size));
        Assert.Equal(("", "<thinking> is not the tag"), Split(false, "<thinking> is not the tag", size));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ThinkingThatNeverClosesIsAllReasoning(int size)
    {
        Assert.Equal(("still thinking </thi", ""), Split(true, "still thinking </thi", size));
        Assert.Equal(("x", ""), Split(false, "<think>x", size));
        Assert.Equal(("done", ""), Split(true, "done</think>\n\n", size));
    }

    [Fact]
    public void AnswerTextStreamsAsSoonAsItCannotBeATag()
    {
        var splitter = new ReasoningSplitter(startsInside: false);
        Assert.Equal(("", ""), splitter.Push(" "));
        Assert.Equal(("", " Hi"), splitter.Push("Hi"));
        var thinking = new ReasoningSplitter(startsInside: true);
        Assert.Equal(("abc", ""), thinking.Push("abc</"));
        Assert.Equal(("</x", ""), thinking.Push("x"));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ThinkingThenACallGivesReasoningAndTheCall(int size)
    {
        const string reply = "<think>\nThe user wants the weather; I should call the tool.\n</think>\n\n<tool_call>\n{\"name\": \"weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
        var format = ToolCallFormat.Detect("tools <tool_call> </think>")!;
        var parser = new ReplyParser(new ReasoningSplitter(false), format.CreateExtractor());
        string reasoning = "", content = "";
        for (int i = 0; i < reply.Length; i += size)
        {
            var piece = parser.Push(reply.Substring(i, Math.Min(size, reply.Length - i)));
            (reasoning, content) = (reasoning + piece.Reasoning, content + piece.Content);
        }
        var end = parser.Finish();
        Assert.Equal("\nThe user wants the weather; I should call the tool.\n", reasoning + end.Reasoning);
        Assert.Equal("", content + end.Content);
        Assert.Equal("weather", Assert.Single(end.Calls).Name);
        Assert.False(end.MalformedCall);

        var whole = new ReplyParser(new ReasoningSplitter(false), format.CreateExtractor()).Parse(reply);
        Assert.Equal((reasoning + end.Reasoning, "", "weather"), (whole.Reasoning, whole.Content, whole.Calls[0].Name));
    }
}
