using Dclm.Rag.Answers;
using Dclm.Rag.Indexing;
using Dclm.Rag.Search;
using Microsoft.Extensions.AI;

namespace Dclm.Rag.Tests;

public class GroundedPromptTests
{
    // A word-count "tokenizer": enough to check the budget arithmetic exactly.
    private static int Words(string text) => text.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Length;

    private static SearchHit Hit(int id, string source, string text) => new(id, new StoredChunk(source, source, id, 0, text.Length, text), 1f / (id + 1));

    [Fact]
    public void SourcesAreNumberedCutToFitAndTheQuestionComesLast()
    {
        var hits = Enumerable.Range(0, 5).Select(i => Hit(i, $"doc{i}.txt", string.Join(' ', Enumerable.Range(0, 200).Select(w => $"d{i}w{w}")))).ToList();
        var prompt = GroundedPrompt.ForContext("What happened?", hits, contextTokens: 256, answerTokens: 64, Words);
        var (messages, sources) = (prompt.ToChatMessages(), prompt.Sources);
        Assert.Equal(ChatRole.System, messages[0].Role);
        Assert.Equal(ChatRole.User, messages[1].Role);
        Assert.Equal([1, 2, 3, 4, 5], sources.Select(s => s.Number));
        Assert.Equal(hits.Select(h => h.Chunk.Source), sources.Select(s => s.Source));
        string user = messages[1].Text;
        Assert.EndsWith("Question: What happened?", user);
        for (int i = 0; i < 5; i++) Assert.Contains($"[{i + 1}] d{i}w0 ", user);
        int total = Words(messages[0].Text) + Words(user);
        Assert.True(total + 64 <= 256, $"prompt of {total} words and a 64-word answer overflow 256");
        Assert.True(total + 64 >= 256 - 24 - 10, $"prompt of {total} words wastes the context");
    }

    [Fact]
    public void ShortSourcesGoInWholeAndATooSmallContextIsAnError()
    {
        var hits = new[] { Hit(0, "a", "short one"), Hit(1, "b", "short two") };
        var sources = GroundedPrompt.ForContext("q?", hits, 4096, 256, Words).Sources;
        Assert.Equal(["short one", "short two"], sources.Select(s => s.Text));
        Assert.Throws<ArgumentException>(() => GroundedPrompt.ForContext("q?", hits, contextTokens: 40, answerTokens: 30, Words));
    }

    [Theory]
    [InlineData("The canal was bought [2]. Later [1, 3] and again [2][4].", 3, new[] { 2, 1, 3 })]
    [InlineData("No citations here.", 5, new int[0])]
    [InlineData("Out of range [7] and [0] but [5].", 5, new[] { 5 })]
    public void CitationsAreReadFromTheAnswer(string answer, int sources, int[] expected) =>
        Assert.Equal(expected, GroundedAnswerer.Cited(answer, sources));
}
