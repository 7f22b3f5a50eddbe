package usage

// wellKnown is what a port is usually used for, when a service listens on
// it: the ports the advice to widen the range to "1024 65000" collides
// with most often, and a few that a range starting low reaches. Keyed by
// port alone: where UDP and TCP differ (123, 5353) only one is in use.
var wellKnown = map[int]string{
	22: "SSH", 25: "SMTP", 53: "DNS", 80: "HTTP", 123: "NTP", 443: "HTTPS",
	1194: "OpenVPN", 1883: "MQTT", 2181: "ZooKeeper", 2379: "etcd (clients)",
	2380: "etcd (peers)", 3000: "Grafana", 3306: "MySQL / MariaDB", 4222: "NATS",
	5353: "mDNS", 5432: "PostgreSQL", 5672: "RabbitMQ (AMQP)", 6379: "Redis",
	6443: "Kubernetes API server", 8080: "HTTP (alternate)", 8443: "HTTPS (alternate)",
	8500: "Consul", 9042: "Cassandra", 9090: "Prometheus", 9092: "Kafka",
	9093: "Alertmanager", 9100: "Prometheus node exporter", 9200: "Elasticsearch",
	10250: "kubelet", 11211: "memcached", 15672: "RabbitMQ (management)",
	27017: "MongoDB", 51820: "WireGuard",
}

// WellKnown says what port is usually used for, "" when it is not one of
// the well-known ones.
func WellKnown(port int) string { return wellKnown[port] }
