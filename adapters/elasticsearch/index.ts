/** The `elasticsearch` sink: `load: { to: elasticsearch, … }`. */
export { elasticsearchSinkConfig as config, type ElasticsearchSinkConfig, type ElasticsearchSinkSpec } from './config.js';
export { createElasticsearchSink as createSink } from './sink.js';
