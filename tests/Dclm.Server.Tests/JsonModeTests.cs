using System.Text.Json;
using System.Text;
using Dclm.Chat;
using Dclm.Inference.Constraints;
using Dclm.Server.Hosting;
using Dclm.Tokenizers;
using Microsoft.Extensions.AI;
using OpenAI.Chat;

namespace Dclm.Server.Tests;

/// <summary>
/// JSON mode (<c>response_format: json_object</c>): the sampler admits only tokens that keep the reply a JSON
/// object, judged by System.Text.Json's reader, on the real GPT-NeoX vocabulary and through the server.
/// </summary>
[Collection("server")]
public sealed class JsonModeTests(ServerFixture fixture)
{
    private static readonly Lazy<Tokenizer> NeoX = new(() => Tokenizer.Load(Path.Combine(AppContext.BaseDirectory, "fixtures", "gpt-neox-20b.vocab.gguf")));
    private const int Vocabulary = 50432; // the model's rows: more than the tokenizer's tokens
    private const int EndOfText = 0;

    /// <summary>Whether <paramref name="text"/> is the start of a JSON object (System.Text.Json reading it as a partial document).</summary>
    public static bool IsObjectPrefix(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0) return true;
        try
        {
            var reader = new Utf8JsonReader(bytes, isFinalBlock: false, default);
            bool first = true;
            while (reader.Read())
            {
                if (first && reader.TokenType != JsonTokenType.StartObject) return false;
                first = false;
            }
            return true;
        }
        catch (JsonException) { return false; }
    }

    private static bool IsObject(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException) { return false; }
    }

    private static JsonObjectConstraint Constraint() => new(TokenByteTable.For(NeoX.Value, Vocabulary), [EndOfText]);

    private static int[] Allowed(JsonObjectConstraint constraint)
    {
        var scores = new float[Vocabulary];
        constraint.Mask(scores);
        return Enumerable.Range(0, Vocabulary).Where(id => !float.IsNegativeInfinity(scores[id])).ToArray();
    }

    [Fact]
    public void AnObjectTheTokenizerWritesIsAllowedTokenByTokenAndThenOnlyTheEnd()
    {
        int[] ids = NeoX.Value.Encode("{\"city\": \"Paris\", \"temps\": [21.5, -3e1], \"ok\": true, \"note\": \"é \\\"q\\\"\"}");
        var constraint = Constraint();
        foreach (int id in ids)
        {
            Assert.Contains(id, Allowed(constraint));
            Assert.False(constraint.IsComplete);
            constraint.Accept(id);
        }
        Assert.True(constraint.IsComplete);
        Assert.Equal([EndOfText], Allowed(constraint));
        // Before anything, only tokens that open an object (after optional whitespace) may come.
        var fresh = Allowed(Constraint());
        Assert.All(fresh, id => Assert.True(NeoX.Value.Decode([id]).TrimStart() is "" or ['{', ..], NeoX.Value.Decode([id])));
        Assert.DoesNotContain(EndOfText, fresh);
        // Without an end token a constrained reply could never stop: refused up front.
        Assert.Contains("never end", Assert.Throws<ArgumentException>(() => new JsonObjectConstraint(TokenByteTable.For(NeoX.Value, Vocabulary), [])).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\n  ")]
    [InlineData("{\"name\": \"Par")]
    [InlineData("{\"name\": \"caf\u00e9 \\")] // after a backslash
    [InlineData("{\"a\": [1, 2")]
    [InlineData("{\"a\": {\"b\": ")]
    [InlineData("{\"a\": tr")]
    public void TheMaskAllowsExactlyTheTokensWhoseBytesTheGrammarReads(string prefix)
    {
        // The mask's shortcuts (groups by first byte, plain string tokens) against trying every token's bytes one by one.
        var table = TokenByteTable.For(NeoX.Value, Vocabulary);
        var schema = JsonSchemaProgram.Compile(JsonDocument.Parse("""{"type": "object", "properties": {"name": {"type": "string"}, "a": {"type": "array", "items": {"type": "integer"}}}}""").RootElement);
        void Check<T>(ByteGrammarConstraint<T> constraint, T grammar) where T : struct, IByteGrammar
        {
            var scores = new float[Vocabulary];
            constraint.Mask(scores);
            for (int id = 0; id < Vocabulary; id++)
            {
                var copy = grammar;
                bool expected = !table[id].IsEmpty;
                foreach (byte b in table[id]) expected &= copy.Feed(b);
                Assert.True(expected == !float.IsNegativeInfinity(scores[id]), $"token {id} ({NeoX.Value.Decode([id])}) after '{prefix}'");
            }
        }
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        var json = new JsonObjectConstraint(table, [EndOfText]);
        JsonByteGrammar jsonState = default;
        foreach (byte b in bytes) jsonState.Feed(b);
        foreach (int id in NeoX.Value.Encode(prefix)) json.Accept(id);
        Check(json, jsonState);
        // The same with a schema, where the prefix fits it (its "a" holds integers, its objects no "b").
        var typedState = schema.Start();
        bool fits = true;
        foreach (byte b in bytes) fits = fits && typedState.Feed(b);
        if (!fits) return;
        var typed = new ByteGrammarConstraint<JsonSchemaGrammar>(table, [EndOfText], schema.Start());
        foreach (int id in NeoX.Value.Encode(prefix)) typed.Accept(id);
        Check(typed, typedState);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomWalksThroughTheMaskStayValidJson(int seed)
    {
        var random = new Random(seed);
        var constraint = Constraint();
        var ids = new List<int>();
        for (int step = 0; step < 200 && !constraint.IsComplete; step++)
        {
            int[] allowed = Allowed(constraint);
            Assert.NotEmpty(allowed);
            // Favour closing quotes and brackets now and then, so some walks finish.
            int[] closers = allowed.Where(id => NeoX.Value.Decode([id]) is "}" or "]" or "\"" or "}}").ToArray();
            int next = random.Next(3) == 0 && closers.Length > 0 ? closers[random.Next(closers.Length)] : allowed[random.Next(allowed.Length)];
            constraint.Accept(next);
            ids.Add(next);
        }
        string text = NeoX.Value.Decode(ids.ToArray());
        Assert.True(IsObjectPrefix(text), text);
        if (constraint.IsComplete) Assert.True(IsObject(text), text);
    }

    private static string Request(int seed, bool stream = false) =>
        $$"""{"messages": [{"role": "user", "content": "Give me JSON"}], "max_tokens": 40, "temperature": 1, "seed": {{seed}}, "response_format": {"type": "json_object"}{{(stream ? ", \"stream\": true" : "")}}}""";

    [Fact]
    public async Task JsonModeRepliesAreJsonObjectsWholeAndStreamed()
    {
        for (int seed = 1; seed <= 3; seed++)
        {
            var (status, body) = await fixture.PostAsync("/v1/chat/completions", Request(seed));
            Assert.Equal(200, status);
            var choice = body.GetProperty("choices")[0];
            string content = choice.GetProperty("message").GetProperty("content").GetString()!;
            Assert.StartsWith("{", content.TrimStart());
            Assert.True(IsObjectPrefix(content), content);
            if (choice.GetProperty("finish_reason").GetString() == "stop") Assert.True(IsObject(content), content);

            var events = await fixture.StreamAsync("/v1/chat/completions", Request(seed, stream: true));
            string streamed = string.Concat(events[..^1].Select(e => JsonDocument.Parse(e).RootElement.GetProperty("choices")[0].GetProperty("delta"))
                .Select(d => d.TryGetProperty("content", out var c) ? c.GetString() : ""));
            Assert.Equal(content, streamed);
        }
        var (refused, error) = await fixture.PostAsync("/v1/chat/completions",
            """{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}}}}}""");
        Assert.Equal(400, refused);
        Assert.Equal("response_format", error.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("maximum", error.GetProperty("error").GetProperty("message").GetString());
    }

    private const string VerdictSchema = """{"type": "object", "properties": {"colour": {"enum": ["red", "green", "blue"]}, "ok": {"type": "boolean"}, "kind": {"const": "verdict"}}, "required": ["colour", "ok"], "additionalProperties": false}""";

    [Fact]
    public async Task StructuredOutputsFollowTheirSchema()
    {
        // Enums, booleans and constants only: every reply completes within a few tokens whatever the model says.
        for (int seed = 1; seed <= 3; seed++)
        {
            string request = $$"""{"messages": [{"role": "user", "content": "Judge it"}], "max_tokens": 60, "temperature": 1, "seed": {{seed}}, "response_format": {"type": "json_schema", "json_schema": {"name": "verdict", "strict": true, "schema": """
                + VerdictSchema + "}}}";
            var (status, body) = await fixture.PostAsync("/v1/chat/completions", request);
            Assert.Equal(200, status);
            var choice = body.GetProperty("choices")[0];
            Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
            string content = choice.GetProperty("message").GetProperty("content").GetString()!;
            Assert.True(Json.Schema.JsonSchema.FromText(VerdictSchema).Evaluate(JsonDocument.Parse(content).RootElement).IsValid, content);
        }
    }

    private enum Colour { Red, Green, Blue }

    private sealed record Verdict(Colour Colour, bool Ok);

    [Fact]
    public async Task TheInProcessClientReturnsTypedResults()
    {
        // Microsoft.Extensions.AI's GetResponseAsync<T> asks for a JSON schema made from the type and reads the reply back into it.
        using IChatClient chat = new EngineChatClient(fixture.Server.Host);
        var response = await chat.GetResponseAsync<Verdict>("Judge it", new ChatOptions { MaxOutputTokens = 60, Temperature = 1, Seed = 3 });
        Assert.True(response.TryGetResult(out var verdict), response.Text);
        Assert.True(Enum.IsDefined(verdict!.Colour), response.Text);
    }

    [Fact]
    public async Task TheOpenAiSdkAndTheInProcessClientGetJson()
    {
        var client = new ChatClient(fixture.ModelId, new System.ClientModel.ApiKeyCredential("unused"),
            new OpenAI.OpenAIClientOptions { Endpoint = new Uri(fixture.Server.Address, "v1") });
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 30, Temperature = 0, ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonObjectFormat() };
        ChatCompletion completion = (await client.CompleteChatAsync([new UserChatMessage("JSON please")], options)).Value;
        Assert.True(IsObjectPrefix(completion.Content[0].Text), completion.Content[0].Text);

        using IChatClient chat = new EngineChatClient(fixture.Server.Host);
        var response = await chat.GetResponseAsync("JSON please", new ChatOptions { ResponseFormat = Microsoft.Extensions.AI.ChatResponseFormat.Json, MaxOutputTokens = 30, Temperature = 0 });
        Assert.StartsWith("{", response.Text.TrimStart());
        Assert.True(IsObjectPrefix(response.Text), response.Text);
    }
}
