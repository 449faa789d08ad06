// Topic management for the local stack, run with Java's source-file mode
// against the broker's own classpath (deploy/local/up; nothing is compiled
// into the repository):
//
//   java -cp "$KAFKA_LIB/*" Topics.java BOOTSTRAP list
//   java -cp "$KAFKA_LIB/*" Topics.java BOOTSTRAP ensure PARTITIONS TOPIC...
//
// `list` prints "NAME PARTITIONS" per topic. `ensure` creates the missing
// topics with PARTITIONS partitions (replication 1), then prints every named
// topic's partition count; it never changes an existing topic, so a count
// that differs is the caller's to report; it also makes the cluster create its
// offsets topic. One JVM does all of it, where
// kafka-topics.sh would start one per topic.

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

public class Topics {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Topics BOOTSTRAP list | Topics BOOTSTRAP ensure PARTITIONS TOPIC...");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        try (Admin admin = Admin.create(props)) {
            switch (args[1]) {
                case "list" -> print(admin, admin.listTopics().names().get(30, TimeUnit.SECONDS));
                case "ensure" -> {
                    int partitions = Integer.parseInt(args[2]);
                    List<String> wanted = List.of(args).subList(3, args.length);
                    Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
                    List<NewTopic> missing = new ArrayList<>();
                    for (String t : wanted) {
                        if (!existing.contains(t)) missing.add(new NewTopic(t, partitions, (short) 1));
                    }
                    for (var entry : admin.createTopics(missing).values().entrySet()) {
                        try {
                            entry.getValue().get(30, TimeUnit.SECONDS);
                            System.err.println("created " + entry.getKey());
                        } catch (ExecutionException e) {
                            // Created concurrently by someone else: counts are printed below.
                            if (!(e.getCause() instanceof TopicExistsException)) throw e;
                        }
                    }
                    print(admin, wanted);
                    // Look up a group coordinator once: on a new cluster that
                    // creates __consumer_offsets, so the first consumer group
                    // does not wait for it (COORDINATOR_NOT_AVAILABLE).
                    admin.listConsumerGroupOffsets("porttrack-local-warmup").partitionsToOffsetAndMetadata()
                            .get(60, TimeUnit.SECONDS);
                }
                default -> {
                    System.err.println("unknown command " + args[1]);
                    System.exit(2);
                }
            }
        }
    }

    private static void print(Admin admin, java.util.Collection<String> names) throws Exception {
        Map<String, TopicDescription> described =
                new TreeMap<>(admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS));
        for (var d : described.values()) {
            System.out.println(d.name() + " " + d.partitions().size());
        }
    }
}
