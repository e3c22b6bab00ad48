using System.CommandLine;
using Dclm.Chat;
using Microsoft.Extensions.AI;

namespace Dclm.Cli.Commands;

/// <summary>`dclm chat`: a conversation in the terminal through the in-process chat client (no HTTP).</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var model = ServeModel.Option();
        var system = new Option<string?>("--system") { Description = "system message that opens the conversation" };
        var temperature = new Option<float>("--temperature") { Description = "sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0.7f };
        var maxTokens = new Option<int>("--max-tokens") { Description = "most tokens per reply", DefaultValueFactory = _ => 256 };
        var context = new Option<int>("--ctx") { Description = "tokens of conversation kept (capped at the model's context)", DefaultValueFactory = _ => 4096 };
        var kvType = ModelOptions.KvType("int8");
        kvType.Description += " (f32 with --device: the GPU backend keeps f32 keys and values only)";
        var threads = ModelOptions.Threads();
        var strictTemplate = ServeModel.StrictChatTemplate();
        var lora = ModelOptions.Lora();
        var command = new Command("chat", "Chat with a model in the terminal (/reset starts over, /exit or an empty line at end of input quits)")
        {
            model, system, temperature, maxTokens, context, kvType, threads, strictTemplate, lora,
        };
        var device = DeviceOptions.Device();
        command.Options.Add(device);
        command.SetAction((parse, cancellation) => CliErrors.RunAsync(async () =>
        {
            string on = parse.GetValue(device)!;
            DeviceOptions.Check(on);
            var adapter = parse.GetValue(lora) is string path ? AdapterSource.Parse(path) : null;
            var options = new ModelHostOptions
            {
                ModelPath = ServeModel.Resolve(parse.GetValue(model)), Threads = parse.GetValue(threads), StrictChatTemplate = parse.GetValue(strictTemplate),
                Adapters = adapter is null ? [] : [adapter], Device = DeviceOptions.Placement(on),
                Engine = new Inference.Engine.EngineOptions { MaxRunningSequences = 1, ContextLength = parse.GetValue(context), PrefixCacheEntries = 2, KvCacheType = DeviceOptions.KvType(parse, kvType, on) },
            };
            using var host = new ModelHost(options);
            try { await host.Loading.WaitAsync(cancellation); }
            catch (Exception e) when (e is not OperationCanceledException) { throw new ArgumentException($"{options.ModelPath}: {e.Message}"); }
            using var client = new EngineChatClient(host, adapter?.Name);
            var history = new List<ChatMessage>();
            if (parse.GetValue(system) is { Length: > 0 } text) history.Add(new ChatMessage(ChatRole.System, text));
            int opening = history.Count;
            var chatOptions = new ChatOptions { Temperature = parse.GetValue(temperature), MaxOutputTokens = parse.GetValue(maxTokens) };
            ServeModel.ShowTemplate(host);
            Console.Error.WriteLine($"dclm chat with {host.ModelId}{(adapter is null ? "" : $" + adapter {adapter.Path}")}. /reset starts over, /exit quits.");
            while (!cancellation.IsCancellationRequested)
            {
                Console.Write("> ");
                string? line = Console.ReadLine();
                if (line is null || line.Trim() == "/exit") break;
                if (line.Trim() == "/reset") { history.RemoveRange(opening, history.Count - opening); continue; }
                if (line.Trim().Length == 0) continue;
                history.Add(new ChatMessage(ChatRole.User, line));
                var reply = new System.Text.StringBuilder();
                UsageDetails? usage = null;
                bool thinking = false;
                await foreach (var update in client.GetStreamingResponseAsync(history, chatOptions, cancellation))
                {
                    // A reasoning model's thinking is shown dimmed on standard error, so piped output holds only answers.
                    foreach (var thought in update.Contents.OfType<TextReasoningContent>())
                    {
                        if (!thinking) Console.Error.Write("\u001b[2m");
                        thinking = true;
                        Console.Error.Write(thought.Text);
                    }
                    if (thinking && update.Text.Length > 0)
                    {
                        Console.Error.WriteLine("\u001b[0m");
                        thinking = false;
                    }
                    Console.Write(update.Text);
                    reply.Append(update.Text);
                    usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
                }
                if (thinking) Console.Error.WriteLine("\u001b[0m");
                Console.WriteLine();
                if (usage is not null) Console.Error.WriteLine($"[{usage.OutputTokenCount} tokens; {usage.CachedInputTokenCount} of {usage.InputTokenCount} prompt tokens reused]");
                history.Add(new ChatMessage(ChatRole.Assistant, reply.ToString()));
            }
            return 0;
        }));
        return command;
    }
}
