using System.Text.Json;
using Dclm.Server.Hosting;

namespace Dclm.Server.Tests;

/// <summary>
/// JSON mode on the built-in default model, through plain HTTP with default sampling: issue 23 saw 40-token
/// replies open with about 24 newlines and leave no room for the object. Whitespace is now bounded as
/// llama.cpp's json.gbnf bounds it, so every reply starts with its '{' and goes on to a key or the close.
/// </summary>
public sealed class DefaultModelJsonModeTests
{
    private static string DefaultModelPath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "models", "default", "model.gguf");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("models/default/model.gguf was not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task FortyTokenJsonRepliesOpenTheObjectAndMakeProgress()
    {
        await using var server = await DclmServer.StartAsync(ServerFixture.Options() with { ModelPath = DefaultModelPath() });
        await server.Host.Loading;
        using var client = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromMinutes(5) };
        for (int seed = 1; seed <= 6; seed++)
        {
            string body = $$"""{"messages": [{"role": "user", "content": "Describe the State of the Union in JSON."}], "response_format": {"type": "json_object"}, "max_tokens": 40, "seed": {{seed}}}""";
            using var response = await client.PostAsync("/v1/chat/completions", ServerFixture.Json(body));
            Assert.Equal(200, (int)response.StatusCode);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            string reply = document.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
            Assert.StartsWith("{", reply);
            Assert.True(JsonModeTests.IsObjectPrefix(reply), reply);
            Assert.DoesNotContain("\n\n", reply); // one newline at most between tokens (a string cannot hold a raw one)
            // Progress: within two tokens of the '{' comes a key or the close.
            Assert.Matches(@"^\{(\n[ \t]{0,20}| )?[""}]", reply);
        }
    }
}
