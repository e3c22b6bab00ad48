using System.ClientModel;
using System.Text.Json;
using Dclm.Chat;
using Dclm.Server.Hosting;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace Dclm.Server.Tests;

/// <summary>The official OpenAI .NET SDK and the in-process IChatClient against the same server.</summary>
[Collection("server")]
public sealed class OpenAiSdkTests(ServerFixture fixture)
{
    private ChatClient Client() => new(fixture.ModelId, new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.Address, "v1") });

    [Fact]
    public async Task TheOpenAiSdkChatsWholeAndStreamed()
    {
        var client = Client();
        List<OpenAI.Chat.ChatMessage> messages = [new SystemChatMessage("You are terse."), new UserChatMessage("Name a colour.")];
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        ChatCompletion whole = (await client.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(ChatMessageRole.Assistant, whole.Role);
        Assert.True(whole.Usage.OutputTokenCount > 0);
        Assert.True(whole.FinishReason is OpenAI.Chat.ChatFinishReason.Stop or OpenAI.Chat.ChatFinishReason.Length);

        var streamed = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            usage = update.Usage ?? usage;
        }
        Assert.Equal(string.Concat(whole.Content.Select(c => c.Text)), streamed.ToString());
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task TheOpenAiSdkSeesServerErrors()
    {
        var client = new ChatClient("no-such-model", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Server.Address, "v1") });
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, error.Status);
    }

    [Fact]
    public async Task TheInProcessChatClientMatchesTheHttpApi()
    {
        using IChatClient chat = new EngineChatClient(fixture.Server.Host);
        List<Microsoft.Extensions.AI.ChatMessage> messages = [new(ChatRole.User, "Name a colour.")];
        var response = await chat.GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
        ChatCompletion viaHttp = (await Client().CompleteChatAsync([new UserChatMessage("Name a colour.")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 })).Value;
        Assert.Equal(string.Concat(viaHttp.Content.Select(c => c.Text)), response.Text);
        Assert.Equal(viaHttp.Usage.OutputTokenCount, response.Usage!.OutputTokenCount);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.GetStreamingResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = 12 })) streamed.Append(update.Text);
        Assert.Equal(response.Text, streamed.ToString());
    }

    [Fact]
    public async Task ToolsForAModelWhoseTemplateTakesNoneAndSchemasItCannotEnforceAreRefusedNotIgnored()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 4 };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "the weather in a city"));
        var refused = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => Client().CompleteChatAsync([new UserChatMessage("Weather in Paris?")], options));
        Assert.Equal(400, refused.Status);
        Assert.Contains("tools", refused.Message);
        var schema = new ChatCompletionOptions { MaxOutputTokenCount = 4, ResponseFormat = OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat("answer", BinaryData.FromString("""{"type": "object", "properties": {"a": {"type": "string", "minLength": 3}}}""")) };
        Assert.Equal(400, (await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => Client().CompleteChatAsync([new UserChatMessage("JSON please")], schema))).Status);

        using IChatClient chat = new EngineChatClient(fixture.Server.Host);
        List<Microsoft.Extensions.AI.ChatMessage> messages = [new(ChatRole.User, "Weather in Paris?")];
        var tool = AIFunctionFactory.Create((string city) => "sunny", "get_weather");
        await Assert.ThrowsAsync<NotSupportedException>(() => chat.GetResponseAsync(messages, new ChatOptions { Tools = [tool], MaxOutputTokens = 4 }));
        var jsonSchema = Microsoft.Extensions.AI.ChatResponseFormat.ForJsonSchema(JsonDocument.Parse("""{"type": "object", "properties": {"a": {"type": "string", "minLength": 3}}}""").RootElement);
        await Assert.ThrowsAsync<NotSupportedException>(() => chat.GetResponseAsync(messages, new ChatOptions { ResponseFormat = jsonSchema, MaxOutputTokens = 4 }));
        // Tools offered with tool mode none are not used, so the request is answered.
        var answered = await chat.GetResponseAsync(messages, new ChatOptions { Tools = [tool], ToolMode = ChatToolMode.None, MaxOutputTokens = 4, Temperature = 0 });
        Assert.True(answered.Usage!.OutputTokenCount > 0);
    }
}
