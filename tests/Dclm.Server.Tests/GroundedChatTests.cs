using System.Diagnostics;
using System.Text.Json;
using Dclm.Chat;
using Dclm.Rag.Answers;
using Dclm.Rag.Search;

namespace Dclm.Server.Tests;

/// <summary>Chat completions with "rag": retrieval into the prompt, citations back; and `dclm rag ask --server`.</summary>
[Collection("retrieval server")]
public sealed class GroundedChatTests(RetrievalServerFixture fixture)
{
    private const string Question = "Why does the moon cause ocean tides?";

    private static string Request(string rag, bool stream = false) =>
        $$"""{"messages": [{"role": "user", "content": "{{Question}}"}], "max_tokens": 8, "temperature": 0, "stream": {{(stream ? "true" : "false")}}, "rag": {{rag}}}""";

    [Fact]
    public async Task TheRetrievedChunksGoIntoThePromptAndComeBackAsCitations()
    {
        var (status, body) = await fixture.PostAsync("/v1/chat/completions", Request("""{"index": "docs", "top_k": 2}"""));
        Assert.Equal(200, status);
        var rag = body.GetProperty("rag");
        Assert.Equal("docs", rag.GetProperty("index").GetString());
        Assert.True(rag.GetProperty("retrieval_ms").GetDouble() > 0);
        var citations = rag.GetProperty("citations").EnumerateArray().Select(c => new Citation(
            c.GetProperty("number").GetInt32(), c.GetProperty("source").GetString()!, c.GetProperty("chunk").GetInt32(), c.GetProperty("text").GetString()!, c.GetProperty("score").GetSingle())).ToList();

        // The same sources, in the same order, as searching the index directly.
        var served = fixture.Server.Retrieval.Indexes["docs"];
        var hits = served.Index.Search(Question, 2, SearchMode.Hybrid, served.Embedder);
        Assert.Equal(hits.Select(h => (h.Chunk.Source, h.Chunk.Chunk)), citations.Select(c => (c.Source, c.Chunk)));
        Assert.Equal([1, 2], citations.Select(c => c.Number));
        Assert.EndsWith("tides.txt", citations[0].Source);
        Assert.Equal(RetrievalServerFixture.Documents.Single(d => d.Name == "tides.txt").Text, citations[0].Text);

        // The prompt the model read is the instruction and the numbered sources before the question, in its chat template.
        var expected = fixture.Server.Host.EncodeChat([new ChatTurn("system", GroundedPrompt.SystemInstruction), new ChatTurn("user", GroundedPrompt.Message(citations, Question))]);
        Assert.Equal(expected.Ids.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(JsonValueKind.Array, choice.GetProperty("cited").ValueKind);
        string reply = choice.GetProperty("message").GetProperty("content").GetString()!;
        Assert.Equal(GroundedAnswerer.Cited(reply, citations.Count), choice.GetProperty("cited").EnumerateArray().Select(n => n.GetInt32()));

        // Without "rag" the response has no sources and the prompt is the question alone.
        var (_, plain) = await fixture.PostAsync("/v1/chat/completions", $$"""{"messages": [{"role": "user", "content": "{{Question}}"}], "max_tokens": 8}""");
        Assert.False(plain.TryGetProperty("rag", out _));
        Assert.True(plain.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() < expected.Ids.Length - 20);
    }

    [Fact]
    public async Task AStreamedAnswerSendsTheSourcesFirstAndTheCitationsLast()
    {
        var events = await ServerFixture.StreamAsync(fixture.Client, "/v1/chat/completions", Request("""{"top_k": 3, "mode": "bm25"}""", stream: true));
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        var sources = chunks[0].GetProperty("rag").GetProperty("citations");
        Assert.InRange(sources.GetArrayLength(), 1, 3);
        Assert.EndsWith("tides.txt", sources[0].GetProperty("source").GetString());
        Assert.All(chunks.Skip(1), c => Assert.False(c.TryGetProperty("rag", out _)));
        var last = chunks.Last(c => c.GetProperty("choices").GetArrayLength() > 0);
        Assert.Equal(JsonValueKind.Array, last.GetProperty("choices")[0].GetProperty("cited").ValueKind);
    }

    [Theory]
    [InlineData("""{"index": "nope"}""", "rag")]
    [InlineData("""{"top_k": 0}""", "rag")]
    [InlineData("""{"top_k": 51}""", "rag")]
    [InlineData("""{"mode": "fuzzy"}""", "rag")]
    public async Task BadRagFieldsAre400(string rag, string param)
    {
        var (status, body) = await fixture.PostAsync("/v1/chat/completions", Request(rag));
        Assert.Equal(400, status);
        Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task TheQuestionMustBeTheLastUserMessageAndIndexesAreListed()
    {
        var (status, body) = await fixture.PostAsync("/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "rag": {}}""");
        Assert.Equal(400, status);
        Assert.Equal("messages", body.GetProperty("error").GetProperty("param").GetString());

        using var response = await fixture.Client.GetAsync("/v1/rag/indexes");
        var index = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0];
        Assert.Equal("docs", index.GetProperty("name").GetString());
        Assert.Equal(RetrievalServerFixture.Documents.Length, index.GetProperty("files").GetInt32());
    }

    [Fact]
    public async Task RagAskWithServerAsksTheRunningServer()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "dclm.dll"), "rag", "ask", "--server", fixture.Server.Address.ToString(), "--index", "docs", "--top-k", "2", "--max-tokens", "8", "--json", Question })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        string errors = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, errors);
        var answer = JsonDocument.Parse(output).RootElement;
        var sources = answer.GetProperty("sources");
        Assert.Equal(2, sources.GetArrayLength());
        Assert.EndsWith("tides.txt", sources[0].GetProperty("source").GetString());

        // A missing index on the server is a one-line error, not a stack trace.
        var bad = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { Path.Combine(AppContext.BaseDirectory, "dclm.dll"), "rag", "ask", "--server", fixture.Server.Address.ToString(), "--index", "nope", Question })
            bad.ArgumentList.Add(argument);
        using var failing = Process.Start(bad)!;
        string message = await failing.StandardError.ReadToEndAsync(timeout.Token);
        await failing.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, failing.ExitCode);
        Assert.Contains("'nope' does not exist", message);
        Assert.Single(message.Trim().Split('\n'));
    }
}

/// <summary>The chat page grounds a question in a chosen index and lists the sources under the reply.</summary>
[Collection("retrieval server")]
public sealed class GroundedChatPageTests(RetrievalServerFixture fixture)
{
    [Fact]
    public async Task TheChatPageListsTheSourcesOfAGroundedReply()
    {
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(fixture.Server.Address.ToString());
        await Microsoft.Playwright.Assertions.Expect(page.Locator("#rag-index option[value=docs]")).ToHaveCountAsync(1);
        await page.SelectOptionAsync("#rag-index", "docs");
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#max-tokens", "8");
        await page.FillAsync("#prompt", "Why does the moon cause ocean tides?");
        await page.PressAsync("#prompt", "Enter");
        await Microsoft.Playwright.Assertions.Expect(page.Locator(".assistant[data-done=true]")).ToHaveCountAsync(1);
        var sources = page.Locator(".sources li");
        Assert.True(await sources.CountAsync() >= 1);
        Assert.Contains("tides.txt", await sources.First.TextContentAsync());
        Assert.Empty(await page.Locator(".error").AllAsync());
    }
}
