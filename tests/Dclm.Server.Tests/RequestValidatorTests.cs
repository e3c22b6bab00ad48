using Dclm.Server.Api;

namespace Dclm.Server.Tests;

public class RequestValidatorTests
{
    [Fact]
    public void FrequencyAndPresencePenaltiesReachTheSampler()
    {
        var options = RequestValidator.Sampling(new CompletionRequestDto { FrequencyPenalty = 0.5f, PresencePenalty = -0.25f, Seed = 1 }, maxTokens: 8);
        Assert.Equal(0.5f, options.FrequencyPenalty);
        Assert.Equal(-0.25f, options.PresencePenalty);
        var defaults = RequestValidator.Sampling(new CompletionRequestDto { Seed = 1 }, maxTokens: 8);
        Assert.Equal(0f, defaults.FrequencyPenalty);
        Assert.Equal(0f, defaults.PresencePenalty);
    }

    [Theory]
    [InlineData(2.5f, null, "frequency_penalty")]
    [InlineData(null, -3f, "presence_penalty")]
    public void OutOfRangePenaltiesNameTheirField(float? frequency, float? presence, string field)
    {
        var error = Assert.Throws<ApiException>(() =>
            RequestValidator.Sampling(new CompletionRequestDto { FrequencyPenalty = frequency, PresencePenalty = presence }, maxTokens: 8));
        Assert.Equal(400, error.Status);
        Assert.Equal(field, error.Param);
    }

    private static ChatRequestDto Chat(string json) =>
        System.Text.Json.JsonSerializer.Deserialize(json, ApiJsonContext.Default.ChatRequestDto)!;

    [Theory]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f"}}]}""", "tools")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto"}""", "tools")]
    [InlineData("""{"tools": {"f": 1}}""", "tools")]
    [InlineData("""{"response_format": {"type": "json_object"}}""", "response_format")]
    [InlineData("""{"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}}""", "response_format")]
    [InlineData("""{"response_format": "json"}""", "response_format")]
    public void FeaturesTheServerLacksAreRefusedByName(string json, string field)
    {
        var error = Assert.Throws<ApiException>(() => RequestValidator.Unsupported(Chat(json)));
        Assert.Equal(400, error.Status);
        Assert.Equal(field, error.Param);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"tools": []}""")]
    [InlineData("""{"tools": null, "response_format": null}""")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "none"}""")]
    [InlineData("""{"response_format": {"type": "text"}}""")]
    public void WhatTheServerCanHonourPasses(string json) => RequestValidator.Unsupported(Chat(json));

    [Theory]
    [InlineData("""{"prompt": "x", "suffix": "y"}""", "suffix")]
    [InlineData("""{"prompt": "x", "best_of": 3}""", "best_of")]
    public void CompletionFeaturesTheServerLacksAreRefusedByName(string json, string field)
    {
        var dto = System.Text.Json.JsonSerializer.Deserialize(json, ApiJsonContext.Default.CompletionRequestDto)!;
        Assert.Equal(field, Assert.Throws<ApiException>(() => RequestValidator.Unsupported(dto)).Param);
        RequestValidator.Unsupported(System.Text.Json.JsonSerializer.Deserialize("""{"prompt": "x", "suffix": "", "best_of": 1}""", ApiJsonContext.Default.CompletionRequestDto)!);
    }
}
