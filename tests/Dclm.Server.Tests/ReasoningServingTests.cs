using System.Text.Json;
using Dclm.Chat;
using Dclm.Models;
using Dclm.Server.Hosting;
using Dclm.TestSupport;
using Microsoft.Extensions.AI;

namespace Dclm.Server.Tests;

/// <summary>
/// A reasoning model's thinking returned apart from its answer: a hand-set model (see
/// <see cref="TinyNeoXModels.WriteScripted"/>) with DeepSeek R1's chat template, whose prompt opens
/// <c>&lt;think&gt;</c>, always answers "Let me think.&lt;/think&gt;Paris".
/// </summary>
[Collection("server")]
public sealed class ReasoningServingTests : IAsyncLifetime
{
    // GPT-NeoX ids of: Let me think.</think>Paris  (all distinct)
    private static readonly int[] Script = [1466, 479, 1158, 8239, 18959, 31, 36062];

    private static readonly Lazy<string> Model = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "dclm-reasoning-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        string template = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "fixtures", "chat-templates.json"))).RootElement
            .EnumerateArray().First(c => c.GetProperty("template").GetString() == "deepseek-r1-distill-qwen-32b").GetProperty("source").GetString()!;
        return TinyNeoXModels.WriteScripted(directory, contextLength: 256,
            Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"), template, Script);
    });

    private DclmServer _server = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = Model.Value });
        await _server.Host.Loading;
        _client = new HttpClient { BaseAddress = _server.Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private static string Request(string extra = "") =>
        $$"""{"messages": [{"role": "user", "content": "Capital of France?"}], "max_tokens": 20, "temperature": 0{{extra}}}""";

    [Fact]
    public async Task ThinkingComesBackAsReasoningContent()
    {
        Assert.True(_server.Host.Template.Reasons);
        Assert.Equal("Let me think.</think>Paris", _server.Host.Tokenizer!.Decode(Script));
        using var response = await _client.PostAsync("/v1/chat/completions", ServerFixture.Json(Request()));
        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Let me think.", message.GetProperty("reasoning_content").GetString());
        Assert.Equal("Paris", message.GetProperty("content").GetString());

        // reasoning_format "none" leaves the reply as the model wrote it.
        using var raw = await _client.PostAsync("/v1/chat/completions", ServerFixture.Json(Request(", \"reasoning_format\": \"none\"")));
        var rawMessage = JsonDocument.Parse(await raw.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Let me think.</think>Paris", rawMessage.GetProperty("content").GetString());
        Assert.False(rawMessage.TryGetProperty("reasoning_content", out _));

        using var bad = await _client.PostAsync("/v1/chat/completions", ServerFixture.Json(Request(", \"reasoning_format\": \"hidden\"")));
        Assert.Equal(400, (int)bad.StatusCode);
    }

    [Fact]
    public async Task StreamedThinkingArrivesAsReasoningDeltasBeforeTheAnswer()
    {
        var events = await ServerFixture.StreamAsync(_client, "/v1/chat/completions", Request(", \"stream\": true"));
        Assert.Equal("[DONE]", events[^1]);
        var deltas = events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta")).ToList();
        string Text(JsonElement d, string field) => d.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        Assert.Equal("Let me think.", string.Concat(deltas.Select(d => Text(d, "reasoning_content"))));
        Assert.Equal("Paris", string.Concat(deltas.Select(d => Text(d, "content"))));
        int lastReasoning = deltas.FindLastIndex(d => Text(d, "reasoning_content").Length > 0);
        int firstContent = deltas.FindIndex(d => Text(d, "content").Length > 0);
        Assert.True(lastReasoning < firstContent);
    }

    [Fact]
    public async Task TheChatPageShowsThinkingApartFromTheAnswer()
    {
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(_server.Address.ToString());
        await Microsoft.Playwright.Assertions.Expect(page.Locator("#model")).ToHaveTextAsync(_server.Host.ModelId);
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#max-tokens", "20");
        await page.FillAsync("#prompt", "Capital of France?");
        await page.PressAsync("#prompt", "Enter");
        await Microsoft.Playwright.Assertions.Expect(page.Locator(".assistant[data-done=true]")).ToHaveTextAsync("Paris");
        await Microsoft.Playwright.Assertions.Expect(page.Locator(".thinking")).ToHaveTextAsync("Let me think.");
    }

    [Fact]
    public async Task TheTerminalChatShowsThinkingApartOnStandardError()
    {
        var (exitCode, output, error) = await CliTests.ChatAsync(Model.Value, "Capital of France?\n/exit\n", "--max-tokens", "20");
        Assert.Equal(0, exitCode);
        Assert.Contains("> Paris", output);
        Assert.DoesNotContain("think", output);
        Assert.True(error.Contains("\u001b[2mLet me think.\u001b[0m"), error + " | " + output);
    }

    [Fact]
    public async Task TheInProcessClientReturnsReasoningContent()
    {
        var chat = new EngineChatClient(_server.Host);
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20 };
        var response = await chat.GetResponseAsync("Capital of France?", options);
        Assert.Equal("Paris", response.Text);
        Assert.Equal("Let me think.", Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<TextReasoningContent>()).Text);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Capital of France?", options)) updates.Add(update);
        Assert.Equal("Paris", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal("Let me think.", string.Concat(updates.SelectMany(u => u.Contents).OfType<TextReasoningContent>().Select(r => r.Text)));
    }
}
