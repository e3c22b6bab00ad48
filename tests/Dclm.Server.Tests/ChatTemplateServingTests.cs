using System.Net;
using System.Text.Json;
using Dclm.Models;
using Dclm.Server.Hosting;
using Dclm.TestSupport;

namespace Dclm.Server.Tests;

/// <summary>A model whose GGUF carries a Jinja chat template, served over HTTP: the template shapes the prompt and its refusals are 400s.</summary>
public sealed class ChatTemplateServingTests
{
    // Gemma-like: refuses a system message; the turn marker is GPT-NeoX's <|endoftext|> (id 0), so markup is visible in the ids.
    private const string Template = "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        + "{% for m in messages %}{{ '<|endoftext|>' + m['role'] + ': ' + m['content'] | trim + '\\n' }}{% endfor %}{{ '<|endoftext|>assistant:' }}";

    private static readonly Lazy<string> Model = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "dclm-chat-template-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return TinyNeoXModels.Write(directory, ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 256),
            seed: 7, weightScale: 0.5f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"), Template);
    });

    [Fact]
    public async Task TheModelsTemplateShapesThePromptAndItsRefusalIsABadRequest()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = Model.Value });
        await server.Host.Loading;
        Assert.Equal(Chat.ChatTemplateKind.Jinja, server.Host.Template.Kind);
        using var client = new HttpClient { BaseAddress = server.Address };

        // Two markers from the template become the special token; the same text inside a message does not.
        using var tokenize = await client.PostAsync("/tokenize", ServerFixture.Json("""{"messages": [{"role": "user", "content": " Hi <|endoftext|> "}]}"""));
        Assert.Equal(HttpStatusCode.OK, tokenize.StatusCode);
        var ids = JsonDocument.Parse(await tokenize.Content.ReadAsStringAsync()).RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(2, ids.Count(id => id == 0));
        Assert.Equal(0, ids[0]);
        Assert.Equal("<|endoftext|>user: Hi <|endoftext|>\n<|endoftext|>assistant:", server.Host.Tokenizer!.Decode(ids));

        using var refused = await client.PostAsync("/v1/chat/completions", ServerFixture.Json("""{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 2}"""));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("System role not supported", await refused.Content.ReadAsStringAsync());

        using var answered = await client.PostAsync("/v1/chat/completions", ServerFixture.Json("""{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}"""));
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
    }

    // ChatML written with a filter neither Jinja2 nor our engine has.
    private const string Unrenderable = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] | frobnicate }}<|im_end|>\n{% endfor %}<|im_start|>assistant\n";

    private static readonly Lazy<string> UnrenderableModel = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), "dclm-chat-template-tests-unrenderable-" + Environment.ProcessId);
        Directory.CreateDirectory(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return TinyNeoXModels.Write(directory, ModelConfig.OpenLm(dim: 64, layers: 2, heads: 4, vocabularySize: 50432, contextLength: 256),
            seed: 7, weightScale: 0.5f, Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf"), Unrenderable);
    });

    [Fact]
    public async Task ATemplateThatCannotBeRenderedIsReplacedOnlyWithAWarningThatNamesWhy()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = UnrenderableModel.Value });
        await server.Host.Loading;
        Assert.Equal(Chat.ChatTemplateKind.ChatMl, server.Host.Template.Kind);
        string warning = Assert.Single(server.Host.Warnings);
        Assert.Contains("frobnicate", warning); // the construct
        Assert.Contains("built-in ChatML", warning); // what replaces it
        Assert.Contains("built-in ChatMl layout in place of its chat template", server.Host.DescribeTemplate());
        // With no template that takes them, tools are a 400 that says why.
        using var client = new HttpClient { BaseAddress = server.Address };
        using var tools = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(
            """{"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2, "tools": [{"type": "function", "function": {"name": "f"}}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, tools.StatusCode);
        Assert.Contains("cannot be rendered", await tools.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StrictlyATemplateThatCannotBeRenderedStopsTheLoadWithTheReason()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = UnrenderableModel.Value, StrictChatTemplate = true });
        var error = await Assert.ThrowsAnyAsync<Exception>(() => server.Host.Loading);
        Assert.Contains("frobnicate", server.Host.LoadError);
        Assert.Contains("--strict-chat-template", server.Host.LoadError);
        using var client = new HttpClient { BaseAddress = server.Address };
        using var health = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Contains("frobnicate", await health.Content.ReadAsStringAsync());
    }
}
