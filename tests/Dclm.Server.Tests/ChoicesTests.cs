using System.Text.Json;

namespace Dclm.Server.Tests;

[Collection("server")]
public sealed class ChoicesTests(ServerFixture fixture)
{
    private static string Completion(int n, long seed, bool stream = false) =>
        $$"""{"prompt": "Once upon a time", "max_tokens": 10, "temperature": 0.9, "seed": {{seed}}, "n": {{n}}, "stream": {{(stream ? "true" : "false")}}, "stream_options": {{(stream ? "{\"include_usage\": true}" : "null")}}}""";

    [Fact]
    public async Task EachOfNChoicesIsWhatItsOwnSeedGivesAlone()
    {
        var (status, body) = await fixture.PostAsync("/v1/completions", Completion(3, seed: 5));
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices");
        Assert.Equal(3, choices.GetArrayLength());
        int generated = 0;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            var (aloneStatus, alone) = await fixture.PostAsync("/v1/completions", Completion(1, seed: 5 + i));
            Assert.Equal(200, aloneStatus);
            Assert.Equal(alone.GetProperty("choices")[0].GetProperty("text").GetString(), choices[i].GetProperty("text").GetString());
            generated += alone.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
        }
        // Different seeds: the choices are not all the same text.
        Assert.True(Enumerable.Range(0, 3).Select(i => choices[i].GetProperty("text").GetString()).Distinct().Count() > 1);
        var usage = body.GetProperty("usage");
        Assert.Equal(generated, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + generated, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task StreamedChoicesCarryTheirIndexAndAddUpToTheWholeResponse()
    {
        var (_, whole) = await fixture.PostAsync("/v1/completions", Completion(2, seed: 11));
        var events = await fixture.StreamAsync("/v1/completions", Completion(2, seed: 11, stream: true));
        Assert.Equal("[DONE]", events[^1]);
        var texts = new[] { "", "" };
        var finishes = new int[2];
        JsonElement? usage = null;
        foreach (string payload in events[..^1])
        {
            var chunk = JsonDocument.Parse(payload).RootElement;
            var choices = chunk.GetProperty("choices");
            if (choices.GetArrayLength() == 0) { usage = chunk.GetProperty("usage").Clone(); continue; }
            Assert.Null(usage); // the usage chunk comes last, after every choice finished
            int index = choices[0].GetProperty("index").GetInt32();
            texts[index] += choices[0].GetProperty("text").GetString();
            if (choices[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String) finishes[index]++;
        }
        Assert.Equal([1, 1], finishes);
        for (int i = 0; i < 2; i++) Assert.Equal(whole.GetProperty("choices")[i].GetProperty("text").GetString(), texts[i]);
        Assert.NotNull(usage);
        Assert.Equal(whole.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), usage.Value.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task ChatReturnsNMessages()
    {
        var (status, body) = await fixture.PostAsync("/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "Say something"}], "max_tokens": 6, "temperature": 1, "seed": 2, "n": 4}""");
        Assert.Equal(200, status);
        var choices = body.GetProperty("choices");
        Assert.Equal(4, choices.GetArrayLength());
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(i, choices[i].GetProperty("index").GetInt32());
            Assert.Equal("assistant", choices[i].GetProperty("message").GetProperty("role").GetString());
        }
    }
}
