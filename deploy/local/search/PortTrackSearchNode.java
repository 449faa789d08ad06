// PortTrack local search engine node: one OpenSearch node, in-process, in the foreground.
//
// Run in Java's source-file mode (nothing compiled is kept), normally through ./run:
//   java -Xms1g -Xmx1g -Dlog4j2.configurationFile=log4j2.xml -cp "$LIB/*" PortTrackSearchNode.java STATE_DIR [key=value ...]
// Extra key=value arguments override node settings (e.g. http.port=9201).
// SIGTERM/SIGINT close the node cleanly (flushes, releases the data directory lock).

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

public class PortTrackSearchNode {

    /** The modules a distribution would load from modules/, given as classpath plugins instead. */
    static final List<Class<? extends Plugin>> MODULES = List.of(Netty4Plugin.class, CommonAnalysisPlugin.class);

    /** Node's constructor taking classpath plugins is protected (the test framework's MockNode uses it too). */
    static final class LocalNode extends Node {
        LocalNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
            super(env, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: PortTrackSearchNode STATE_DIR [key=value ...]");
            System.exit(2);
        }
        Path state = Path.of(args[0]).toAbsolutePath().normalize();
        Path home = state.resolve("home");
        Path data = state.resolve("data");
        Path logs = state.resolve("logs");
        for (Path p : List.of(home.resolve("config"), home.resolve("plugins"), home.resolve("modules"), data, logs)) {
            Files.createDirectories(p);
        }

        Settings.Builder settings = Settings.builder()
            .put("cluster.name", "porttrack-local")
            .put("node.name", "porttrack-search-0")
            .put("path.home", home.toString())
            .put("path.data", data.toString())
            .put("path.logs", logs.toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", "9200")       // exact port: fail rather than drift to 9201
            .put("transport.port", "9300")
            .put("discovery.type", "single-node")
            // A full dev disk must not flip indices to read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", "true")
            // Gzip responses when the client asks (Accept-Encoding); gzip request bodies are always decoded.
            .put("http.compression", true)
            .put("http.max_content_length", "200mb")
            .put("node.max_local_storage_nodes", 1);
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("bad setting (want key=value): " + args[i]);
                System.exit(2);
            }
            settings.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings.build(), Map.of(), home.resolve("config"), () -> "porttrack-search-0");
        Node node = new LocalNode(env, MODULES);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("porttrack-search: stopping");
            try {
                node.close();
                if (!node.awaitClose(30, TimeUnit.SECONDS)) {
                    System.err.println("porttrack-search: node did not close within 30s");
                }
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                System.out.println("porttrack-search: stopped");
                stopped.countDown();
            }
        }, "porttrack-search-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            System.err.println("porttrack-search: node failed to start: " + t);
            t.printStackTrace();
            Runtime.getRuntime().halt(1);
        }
        // One node: replicas could never be assigned (health would stay yellow). New indices read
        // this default from the cluster metadata, not from node settings, so make it persistent.
        try {
            node.client().admin().cluster().prepareUpdateSettings()
                .setPersistentSettings(Settings.builder().put("cluster.default_number_of_replicas", 0))
                .get(TimeValue.timeValueSeconds(30));
        } catch (Exception e) {
            System.err.println("porttrack-search: could not set cluster.default_number_of_replicas=0: " + e);
        }
        System.out.println("porttrack-search: ready on http://127.0.0.1:" + env.settings().get("http.port"));
        stopped.await();
    }
}
